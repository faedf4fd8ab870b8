// weft::net::udp_socket: the datagram operations every weft datagram socket shares
// (io/net/datagram_io.hpp), with IPv4 and IPv6 addresses. The socket's own address names it
// in errors.
#include <weft/net/udp_socket.hpp>

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <system_error>

#include "io/io_source.hpp"
#include "io/net/datagram_io.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

// What an operation on a closed (or moved-from) socket says.
constexpr const char* closed = "the socket is closed (or empty)";

} // namespace

udp_socket udp_socket::bind(std::string_view host, std::uint16_t port) {
    const std::optional<address> where = address::parse(host, port);
    if (!where) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "weft::net::udp_socket::bind " + std::string(host) +
                                    ": not a numeric IPv4 or IPv6 address (resolve a name first)");
    }
    return bind(*where);
}

udp_socket udp_socket::bind(const address& where) {
    static constexpr const char* operation = "weft::net::udp_socket::bind";
    const int fd = ops::open_socket(where.family(), SOCK_DGRAM);
    if (fd < 0) {
        ops::throw_socket_error(-fd, operation, where.to_string());
    }
    if (const int result = ops::bind_to(fd, ops::endpoint_of(where)); result < 0) {
        ::close(fd);
        ops::throw_socket_error(-result, operation, where.to_string());
    }
    detail::attached_socket socket(fd, operation);
    socket.set_address(ops::local_endpoint(fd).describe());
    return udp_socket(std::move(socket));
}

void udp_socket::connect(const address& peer) {
    static constexpr const char* operation = "weft::net::udp_socket::connect";
    if (const int result = ops::start_connect(ops::open_source(socket_, operation, closed).fd,
                                              ops::endpoint_of(peer));
        result < 0) {
        ops::throw_socket_error(-result, operation, peer.to_string());
    }
}

address udp_socket::local_address() const {
    return ops::address_of(ops::local_endpoint(
        ops::open_source(socket_, "weft::net::udp_socket::local_address", closed).fd));
}

coro<> udp_socket::send_to(std::string_view datagram, const address& to) {
    static constexpr const char* operation = "weft::net::udp_socket::send_to";
    return ops::send_datagram(socket_, datagram, ops::endpoint_of(to), operation, closed);
}

coro<> udp_socket::send(std::string_view datagram) {
    static constexpr const char* operation = "weft::net::udp_socket::send";
    return ops::send_datagram(socket_, datagram, std::nullopt, operation, closed);
}

coro<received_datagram> udp_socket::receive_from(std::span<char> buffer) {
    static constexpr const char* operation = "weft::net::udp_socket::receive_from";
    const ops::datagram_received got =
        co_await ops::receive_datagram(socket_, buffer, operation, closed);
    co_return received_datagram{got.size, got.truncated, ops::address_of(got.sender)};
}

} // namespace weft::net
