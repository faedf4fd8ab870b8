// weft::net::tcp_stream: each operation tries its system call and, on EAGAIN, waits for the
// next readiness edge of its direction (the protocol is in runtime/io/io_source.hpp). The
// system calls go through socket_ops, so no coroutine here reads errno.
#include <weft/net/tcp_stream.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <weft/errors.hpp>
#include <weft/to_thread.hpp>

#include "io/io_source.hpp"
#include "io/net/attached_socket.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

using detail::io_source;
using detail::readiness_awaiter;
namespace ops = detail::net;

namespace {

bool would_block(long result) noexcept {
    return result == -EAGAIN || result == -EWOULDBLOCK;
}

} // namespace

incomplete_read::incomplete_read(std::size_t bytes_read, std::size_t expected,
                                 const std::string& peer)
    : std::runtime_error("weft::net::tcp_stream::read_exact " + peer + ": the stream ended after " +
                         std::to_string(bytes_read) + " of " + std::to_string(expected) + " bytes"),
      bytes_read_(bytes_read), expected_(expected) {}

tcp_stream::tcp_stream(tcp_stream&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)), peer_(std::move(other.peer_)) {}

tcp_stream& tcp_stream::operator=(tcp_stream&& other) noexcept {
    if (this != &other) {
        close();
        source_ = std::exchange(other.source_, nullptr);
        peer_ = std::move(other.peer_);
    }
    return *this;
}

void tcp_stream::close() noexcept {
    ops::attached_socket(std::exchange(source_, nullptr)).close();
}

int tcp_stream::native_handle() const noexcept {
    return source_ != nullptr ? source_->fd : -1;
}

io_source& tcp_stream::open_source(const char* operation) const {
    if (source_ == nullptr) {
        throw invalid_state_error(std::string(operation) + ": the stream is closed (or empty)");
    }
    return *source_;
}

std::uint16_t tcp_stream::local_port() const {
    return ops::local_endpoint(open_source("weft::net::tcp_stream::local_port").fd).port();
}

coro<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port) {
    static constexpr const char* operation = "weft::net::tcp_stream::connect";
    std::vector<ops::endpoint> candidates;
    if (std::optional<ops::endpoint> numeric = ops::parse_numeric(host, port)) {
        candidates.push_back(*numeric);
    } else {
        candidates = co_await to_thread(ops::resolve, host, port);
    }
    int last_error = EADDRNOTAVAIL; // if the name resolved to nothing
    std::string last_address = host + ":" + std::to_string(port);
    for (const ops::endpoint& candidate : candidates) {
        const int fd = ops::open_stream_socket(candidate.family());
        if (fd < 0) { // say, an IPv6 address on a machine without IPv6: try the next
            last_error = -fd;
            last_address = candidate.describe();
            continue;
        }
        ops::attached_socket attached(fd, operation);
        std::string address = candidate.describe();
        tcp_stream stream(attached.release(), std::move(address));
        const std::uint64_t seen = stream.source_->writable.observe();
        int error = -ops::start_connect(fd, candidate);
        if (error == EINPROGRESS) {
            co_await readiness_awaiter(stream.source_->writable, seen, operation);
            error = ops::connect_result(fd);
        }
        if (error == 0) {
            co_return stream;
        }
        last_error = error;
        last_address = candidate.describe();
    }
    ops::throw_socket_error(last_error, operation, last_address);
}

coro<std::size_t> tcp_stream::read_some(std::span<char> buffer) {
    static constexpr const char* operation = "weft::net::tcp_stream::read_some";
    io_source& source = open_source(operation);
    ops::require_live_runtime(source, operation, peer_);
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        const ssize_t got = ops::receive(source.fd, buffer.data(), buffer.size());
        if (got >= 0) {
            co_return static_cast<std::size_t>(got);
        }
        if (got == -EINTR) {
            continue;
        }
        if (!would_block(got)) {
            ops::throw_socket_error(static_cast<int>(-got), operation, peer_);
        }
        co_await readiness_awaiter(source.readable, seen, operation);
    }
}

coro<> tcp_stream::read_exact(std::span<char> buffer) {
    std::size_t filled = 0;
    while (filled < buffer.size()) {
        const std::size_t got = co_await read_some(buffer.subspan(filled));
        if (got == 0) {
            throw incomplete_read(filled, buffer.size(), peer_);
        }
        filled += got;
    }
}

coro<> tcp_stream::write_all(std::string_view data) {
    static constexpr const char* operation = "weft::net::tcp_stream::write_all";
    io_source& source = open_source(operation);
    ops::require_live_runtime(source, operation, peer_);
    while (!data.empty()) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent = ops::send_some(source.fd, data.data(), data.size());
        if (sent >= 0) {
            data.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        if (sent == -EINTR) {
            continue;
        }
        if (!would_block(sent)) {
            ops::throw_socket_error(static_cast<int>(-sent), operation, peer_);
        }
        co_await readiness_awaiter(source.writable, seen, operation);
    }
}

void tcp_stream::shutdown_write() {
    static constexpr const char* operation = "weft::net::tcp_stream::shutdown_write";
    if (const int result = ops::shutdown_writes(open_source(operation).fd); result < 0) {
        ops::throw_socket_error(-result, operation, peer_);
    }
}

void tcp_stream::set_nodelay(bool enabled) {
    static constexpr const char* operation = "weft::net::tcp_stream::set_nodelay";
    if (const int result =
            ops::set_option(open_source(operation).fd, IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
        result < 0) {
        ops::throw_socket_error(-result, operation, peer_);
    }
}

} // namespace weft::net
