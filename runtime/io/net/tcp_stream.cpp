// weft::net::tcp_stream: each operation tries its system call and, on EAGAIN, waits for the
// next readiness edge of its direction (the protocol is in runtime/io/io_source.hpp). The
// system calls go through socket_ops, so no coroutine here reads errno. A vectored write owns
// its copy of the buffer list (iovecs), which it advances past what each call sent.
#include <weft/net/tcp_stream.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include <weft/errors.hpp>
#include <weft/to_thread.hpp>

#include "io/io_source.hpp"
#include "io/net/socket_ops.hpp"

namespace weft::net {

using detail::io_source;
using detail::readiness_awaiter;
namespace ops = detail::net;

namespace {

// What an operation on a closed (or moved-from) stream says.
constexpr const char* closed = "the stream is closed (or empty)";

bool would_block(long result) noexcept {
    return result == -EAGAIN || result == -EWOULDBLOCK;
}

// The non-empty buffers of a vectored write, as sendmsg takes them.
template <class Buffer>
std::vector<iovec> to_parts(std::span<const Buffer> buffers) {
    std::vector<iovec> parts;
    parts.reserve(buffers.size());
    for (const Buffer& each : buffers) {
        if (!each.empty()) { // sendmsg only reads through iov_base
            parts.push_back(
                iovec{const_cast<void*>(static_cast<const void*>(each.data())), each.size()});
        }
    }
    return parts;
}

// Sends every byte of `parts`, up to IOV_MAX buffers a call; after a partial send the next
// call starts in the buffer where it stopped.
coro<> send_all_parts(weft::detail::attached_socket& socket, std::vector<iovec> parts) {
    static constexpr const char* operation = "weft::net::tcp_stream::write_all_vectored";
    io_source& source = ops::open_source(socket, operation, closed);
    ops::require_live_runtime(source, operation, socket.address());
    std::size_t next = 0; // the first buffer not wholly sent
    while (next < parts.size()) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent = ops::send_vectored(
            source.fd, parts.data() + next, std::min<std::size_t>(parts.size() - next, IOV_MAX));
        if (sent >= 0) {
            auto left = static_cast<std::size_t>(sent);
            while (next < parts.size() && left >= parts[next].iov_len) {
                left -= parts[next].iov_len;
                ++next;
            }
            if (left > 0) {
                parts[next].iov_base = static_cast<char*>(parts[next].iov_base) + left;
                parts[next].iov_len -= left;
            }
            continue;
        }
        if (sent == -EINTR) {
            continue;
        }
        if (!would_block(sent)) {
            ops::throw_socket_error(static_cast<int>(-sent), operation, socket.address());
        }
        co_await readiness_awaiter(source.writable, seen, operation);
    }
}

} // namespace

incomplete_read::incomplete_read(std::size_t bytes_read, std::size_t expected,
                                 const std::string& peer)
    : std::runtime_error("weft::net::tcp_stream::read_exact " + peer + ": the stream ended after " +
                         std::to_string(bytes_read) + " of " + std::to_string(expected) + " bytes"),
      bytes_read_(bytes_read), expected_(expected) {}

std::uint16_t tcp_stream::local_port() const {
    return ops::local_endpoint(
               ops::open_source(socket_, "weft::net::tcp_stream::local_port", closed).fd)
        .port();
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
        tcp_stream stream{detail::attached_socket(fd, operation)};
        stream.socket_.set_address(candidate.describe());
        io_source& source = *stream.socket_.get();
        const std::uint64_t seen = source.writable.observe();
        int error = -ops::start_connect(fd, candidate);
        if (error == EINPROGRESS) {
            co_await readiness_awaiter(source.writable, seen, operation);
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
    io_source& source = ops::open_source(socket_, operation, closed);
    ops::require_live_runtime(source, operation, socket_.address());
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
            ops::throw_socket_error(static_cast<int>(-got), operation, socket_.address());
        }
        co_await readiness_awaiter(source.readable, seen, operation);
    }
}

coro<> tcp_stream::read_exact(std::span<char> buffer) {
    std::size_t filled = 0;
    while (filled < buffer.size()) {
        const std::size_t got = co_await read_some(buffer.subspan(filled));
        if (got == 0) {
            throw incomplete_read(filled, buffer.size(), socket_.address());
        }
        filled += got;
    }
}

coro<> tcp_stream::write_all(std::string_view data) {
    static constexpr const char* operation = "weft::net::tcp_stream::write_all";
    io_source& source = ops::open_source(socket_, operation, closed);
    ops::require_live_runtime(source, operation, socket_.address());
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
            ops::throw_socket_error(static_cast<int>(-sent), operation, socket_.address());
        }
        co_await readiness_awaiter(source.writable, seen, operation);
    }
}

coro<> tcp_stream::write_all_vectored(std::span<const std::string_view> buffers) {
    return send_all_parts(socket_, to_parts(buffers));
}

coro<> tcp_stream::write_all_vectored(std::span<const std::span<const std::byte>> buffers) {
    return send_all_parts(socket_, to_parts(buffers));
}

void tcp_stream::shutdown_write() {
    static constexpr const char* operation = "weft::net::tcp_stream::shutdown_write";
    if (const int result = ops::shutdown_writes(ops::open_source(socket_, operation, closed).fd);
        result < 0) {
        ops::throw_socket_error(-result, operation, socket_.address());
    }
}

void tcp_stream::set_nodelay(bool enabled) {
    static constexpr const char* operation = "weft::net::tcp_stream::set_nodelay";
    if (const int result = ops::set_option(ops::open_source(socket_, operation, closed).fd,
                                           IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
        result < 0) {
        ops::throw_socket_error(-result, operation, socket_.address());
    }
}

} // namespace weft::net
