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
#include "io/net/attached_socket.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

namespace ops = detail::net;

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
    ops::attached_socket attached(fd, operation);
    std::string local = ops::local_endpoint(fd).describe();
    return tcp_listener(attached.release(), std::move(local));
}

tcp_listener::tcp_listener(tcp_listener&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)), local_(std::move(other.local_)) {}

tcp_listener& tcp_listener::operator=(tcp_listener&& other) noexcept {
    if (this != &other) {
        close();
        source_ = std::exchange(other.source_, nullptr);
        local_ = std::move(other.local_);
    }
    return *this;
}

void tcp_listener::close() noexcept {
    ops::attached_socket(std::exchange(source_, nullptr)).close();
}

std::uint16_t tcp_listener::local_port() const {
    if (source_ == nullptr) {
        throw invalid_state_error("weft::net::tcp_listener::local_port: the listener is closed");
    }
    return ops::local_endpoint(source_->fd).port();
}

coro<tcp_stream> tcp_listener::accept() {
    static constexpr const char* operation = "weft::net::tcp_listener::accept";
    if (source_ == nullptr) {
        throw invalid_state_error(std::string(operation) + ": the listener is closed");
    }
    detail::io_source& source = *source_;
    ops::require_live_runtime(source, operation, local_);
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        ops::endpoint peer;
        const int fd = ops::accept_stream(source.fd, peer);
        if (fd >= 0) {
            ops::attached_socket attached(fd, operation);
            std::string address = peer.describe();
            co_return tcp_stream(attached.release(), std::move(address));
        }
        if (fd == -EINTR || fd == -ECONNABORTED) {
            continue;
        }
        if (fd != -EAGAIN && fd != -EWOULDBLOCK) {
            ops::throw_socket_error(-fd, operation, local_);
        }
        co_await detail::readiness_awaiter(source.readable, seen, operation);
    }
}

} // namespace weft::net
