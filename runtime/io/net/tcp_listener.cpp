// weft::net::tcp_listener: bind and listen at once, then accept4 until EAGAIN and wait for
// the next readable edge (runtime/io/io_source.hpp). A connection the peer aborted before it
// was accepted is skipped, as the kernel reports it (ECONNABORTED).
#include <weft/net/tcp_listener.hpp>

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include <weft/errors.hpp>

#include "io/io_source.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

// What an operation on a closed listener says.
constexpr const char* closed = "the listener is closed";

} // namespace

tcp_listener tcp_listener::bind(std::string_view address, std::uint16_t port, int backlog) {
    static constexpr const char* operation = "weft::net::tcp_listener::bind";
    const std::optional<ops::endpoint> where = ops::parse_numeric(address, port);
    if (!where) {
        throw std::system_error(EINVAL, std::generic_category(),
                                std::string(operation) + " " + std::string(address) +
                                    ": not a numeric IPv4 or IPv6 address");
    }
    const int fd = ops::open_stream_socket(where->family());
    if (fd < 0) {
        ops::throw_socket_error(-fd, operation, where->describe());
    }
    if (const int result = ops::bind_and_listen(fd, *where, backlog); result < 0) {
        ::close(fd);
        ops::throw_socket_error(-result, operation, where->describe());
    }
    detail::attached_socket socket(fd, operation);
    socket.set_address(ops::local_endpoint(fd).describe());
    return tcp_listener(std::move(socket));
}

std::uint16_t tcp_listener::local_port() const {
    return ops::local_endpoint(
               ops::open_source(socket_, "weft::net::tcp_listener::local_port", closed).fd)
        .port();
}

coro<tcp_stream> tcp_listener::accept() {
    static constexpr const char* operation = "weft::net::tcp_listener::accept";
    detail::io_source& source = ops::open_source(socket_, operation, closed);
    ops::require_live_runtime(source, operation, socket_.address());
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        ops::endpoint peer;
        const int fd = ops::accept_stream(source.fd, peer);
        if (fd >= 0) {
            detail::attached_socket connection(fd, operation);
            connection.set_address(peer.describe());
            co_return tcp_stream(std::move(connection));
        }
        if (fd == -EINTR || fd == -ECONNABORTED) {
            continue;
        }
        if (fd != -EAGAIN && fd != -EWOULDBLOCK) {
            ops::throw_socket_error(-fd, operation, socket_.address());
        }
        co_await detail::readiness_awaiter(source.readable, seen, operation);
    }
}

} // namespace weft::net
