// weft::net::udp_socket: each send or receive tries its system call (sendto, recvmsg) and,
// on EAGAIN, waits for the next readiness edge of its direction (runtime/io/io_source.hpp),
// as the stream sockets do. The socket's own address names it in errors.
#include <weft/net/udp_socket.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>

#include <weft/sleep.hpp>

#include "io/io_budget.hpp"
#include "io/io_source.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

namespace ops = detail::net;
using detail::io_source;
using detail::readiness_awaiter;

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
    return send_datagram(datagram, &to, "weft::net::udp_socket::send_to");
}

coro<> udp_socket::send(std::string_view datagram) {
    return send_datagram(datagram, nullptr, "weft::net::udp_socket::send");
}

coro<> udp_socket::send_datagram(std::string_view datagram, const address* to,
                                 const char* operation) {
    io_source& source = ops::open_source(socket_, operation, closed);
    ops::require_live_runtime(source, operation, socket_.address());
    if (detail::spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    const std::optional<ops::endpoint> destination =
        to != nullptr ? std::optional(ops::endpoint_of(*to)) : std::nullopt;
    for (;;) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent = ops::send_datagram(source.fd, datagram.data(), datagram.size(),
                                                destination ? &*destination : nullptr);
        if (sent >= 0) {
            co_return;
        }
        if (sent == -EINTR) {
            continue;
        }
        if (!ops::would_block(sent)) {
            ops::throw_socket_error(static_cast<int>(-sent), operation,
                                    to != nullptr ? socket_.address() + " to " + to->to_string()
                                                  : socket_.address());
        }
        co_await readiness_awaiter(source.writable, seen, operation);
    }
}

coro<received_datagram> udp_socket::receive_from(std::span<char> buffer) {
    static constexpr const char* operation = "weft::net::udp_socket::receive_from";
    io_source& source = ops::open_source(socket_, operation, closed);
    ops::require_live_runtime(source, operation, socket_.address());
    if (detail::spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        ops::endpoint sender;
        bool truncated = false;
        const ssize_t got =
            ops::receive_datagram(source.fd, buffer.data(), buffer.size(), sender, truncated);
        if (got >= 0) {
            co_return received_datagram{static_cast<std::size_t>(got), truncated,
                                        ops::address_of(sender)};
        }
        if (got == -EINTR) {
            continue;
        }
        if (!ops::would_block(got)) {
            ops::throw_socket_error(static_cast<int>(-got), operation, socket_.address());
        }
        co_await readiness_awaiter(source.readable, seen, operation);
    }
}

} // namespace weft::net
