// weft::net::tcp_listener: bind and listen at once, then accept as every weft listener does
// (io/net/stream_io.hpp: accept4 until EAGAIN, then wait for the next readable edge; a
// connection the peer aborted before it was accepted is skipped).
#include <weft/net/tcp_listener.hpp>

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include <weft/errors.hpp>

#include "io/io_source.hpp"
#include "io/net/socket_ops.hpp"
#include "io/net/stream_io.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

// What an operation on a closed listener says.
constexpr const char* closed = "the listener is closed";

constexpr const char* operation = "weft::net::tcp_listener::bind";

} // namespace

tcp_listener tcp_listener::bind(std::string_view address, std::uint16_t port, int backlog) {
    const std::optional<net::address> where = net::address::parse(address, port);
    if (!where) {
        throw std::system_error(EINVAL, std::generic_category(),
                                std::string(operation) + " " + std::string(address) +
                                    ": not a numeric IPv4 or IPv6 address");
    }
    return bind(*where, backlog);
}

tcp_listener tcp_listener::bind(const net::address& where, int backlog) {
    return bind(std::span(&where, 1), backlog);
}

tcp_listener tcp_listener::bind(std::span<const net::address> candidates, int backlog) {
    int last_error = EADDRNOTAVAIL; // no candidates
    std::string last_address;
    for (const net::address& candidate : candidates) {
        last_address = candidate.to_string();
        const int fd = ops::open_stream_socket(candidate.family());
        if (fd < 0) {
            last_error = -fd;
            continue;
        }
        if (const int result = ops::bind_and_listen(fd, ops::endpoint_of(candidate), backlog);
            result < 0) {
            ::close(fd);
            last_error = -result;
            continue;
        }
        detail::attached_socket socket(fd, operation);
        socket.set_address(ops::local_endpoint(fd).describe());
        return tcp_listener(std::move(socket));
    }
    ops::throw_socket_error(last_error, operation, last_address);
}

std::uint16_t tcp_listener::local_port() const {
    return ops::local_endpoint(
               ops::open_source(socket_, "weft::net::tcp_listener::local_port", closed).fd)
        .port();
}

coro<tcp_stream> tcp_listener::accept() {
    ops::accepted_connection accepted =
        co_await ops::accept_from(socket_, "weft::net::tcp_listener::accept", closed);
    accepted.socket.set_address(accepted.peer.describe());
    co_return tcp_stream(std::move(accepted.socket));
}

} // namespace weft::net
