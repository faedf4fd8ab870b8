// The shared stream and listener operations; see stream_io.hpp. The system calls go
// through socket_ops, so no coroutine here reads errno. A vectored write owns its copy of
// the buffer list (iovecs), which it advances past what each call sent.
#include "io/net/stream_io.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <weft/net/tcp_stream.hpp>
#include <weft/sleep.hpp>

#include "io/io_budget.hpp"
#include "io/io_source.hpp"

namespace weft::detail::net {

namespace {

std::span<char> as_chars(std::span<std::byte> bytes) noexcept {
    return {reinterpret_cast<char*>(bytes.data()), bytes.size()};
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

coro<> send_all_parts(const attached_socket& socket, std::vector<iovec> parts,
                      const stream_names& names) {
    io_source& source = open_source(socket, names.write_all_vectored, names.closed);
    require_live_runtime(source, names.write_all_vectored, socket.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    std::size_t next = 0; // the first buffer not wholly sent
    while (next < parts.size()) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent = send_vectored(source.fd, parts.data() + next,
                                           std::min<std::size_t>(parts.size() - next, IOV_MAX));
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
            throw_socket_error(static_cast<int>(-sent), names.write_all_vectored, socket.address());
        }
        co_await readiness_awaiter(source.writable, seen, names.write_all_vectored);
    }
}

} // namespace

coro<std::size_t> read_some(const attached_socket& socket, std::span<char> buffer,
                            const stream_names& names) {
    io_source& source = open_source(socket, names.read_some, names.closed);
    require_live_runtime(source, names.read_some, socket.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        const ssize_t got = receive(source.fd, buffer.data(), buffer.size());
        if (got >= 0) {
            co_return static_cast<std::size_t>(got);
        }
        if (got == -EINTR) {
            continue;
        }
        if (!would_block(got)) {
            throw_socket_error(static_cast<int>(-got), names.read_some, socket.address());
        }
        co_await readiness_awaiter(source.readable, seen, names.read_some);
    }
}

coro<> read_exact(const attached_socket& socket, std::span<char> buffer,
                  const stream_names& names) {
    std::size_t filled = 0;
    while (filled < buffer.size()) {
        const std::size_t got = co_await read_some(socket, buffer.subspan(filled), names);
        if (got == 0) {
            throw weft::net::incomplete_read(std::string(names.read_exact) + " " + socket.address(),
                                             filled, buffer.size());
        }
        filled += got;
    }
}

coro<> write_all(const attached_socket& socket, std::string_view data, const stream_names& names) {
    io_source& source = open_source(socket, names.write_all, names.closed);
    require_live_runtime(source, names.write_all, socket.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    while (!data.empty()) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent = send_some(source.fd, data.data(), data.size());
        if (sent >= 0) {
            data.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        if (sent == -EINTR) {
            continue;
        }
        if (!would_block(sent)) {
            throw_socket_error(static_cast<int>(-sent), names.write_all, socket.address());
        }
        co_await readiness_awaiter(source.writable, seen, names.write_all);
    }
}

coro<std::size_t> read_some(const attached_socket& socket, std::span<std::byte> buffer,
                            const stream_names& names) {
    return read_some(socket, as_chars(buffer), names);
}

coro<> read_exact(const attached_socket& socket, std::span<std::byte> buffer,
                  const stream_names& names) {
    return read_exact(socket, as_chars(buffer), names);
}

coro<> write_all(const attached_socket& socket, std::span<const std::byte> data,
                 const stream_names& names) {
    return write_all(
        socket, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), names);
}

coro<> write_all_vectored(const attached_socket& socket, std::span<const std::string_view> buffers,
                          const stream_names& names) {
    return send_all_parts(socket, to_parts(buffers), names);
}

coro<> write_all_vectored(const attached_socket& socket,
                          std::span<const std::span<const std::byte>> buffers,
                          const stream_names& names) {
    return send_all_parts(socket, to_parts(buffers), names);
}

void shutdown_write(const attached_socket& socket, const stream_names& names) {
    if (const int result =
            shutdown_writes(open_source(socket, names.shutdown_write, names.closed).fd);
        result < 0) {
        throw_socket_error(-result, names.shutdown_write, socket.address());
    }
}

coro<int> connect_to(const attached_socket& socket, const endpoint& where, const char* operation) {
    io_source& source = *socket.get();
    const std::uint64_t seen = source.writable.observe();
    const int error = -start_connect(source.fd, where);
    if (error != EINPROGRESS) {
        co_return error;
    }
    co_await readiness_awaiter(source.writable, seen, operation);
    co_return connect_result(source.fd);
}

coro<accepted_connection> accept_from(const attached_socket& listener, const char* operation,
                                      const char* closed) {
    io_source& source = open_source(listener, operation, closed);
    require_live_runtime(source, operation, listener.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        endpoint peer;
        const int fd = accept_stream(source.fd, peer);
        if (fd >= 0) {
            co_return accepted_connection{attached_socket(fd, operation), peer};
        }
        if (fd == -EINTR || fd == -ECONNABORTED) {
            continue;
        }
        if (fd != -EAGAIN && fd != -EWOULDBLOCK) {
            throw_socket_error(-fd, operation, listener.address());
        }
        co_await readiness_awaiter(source.readable, seen, operation);
    }
}

} // namespace weft::detail::net
