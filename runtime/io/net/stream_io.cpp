// The shared stream and listener operations; see stream_io.hpp. The system calls go
// through socket_ops, so no coroutine here reads errno.
#include "io/net/stream_io.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <utility>

#include <weft/net/tcp_stream.hpp>
#include <weft/sleep.hpp>

#include "io/io_budget.hpp"
#include "io/io_source.hpp"

namespace weft::detail::net {
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
            throw weft::net::incomplete_read(names.read_exact, filled, buffer.size(),
                                             socket.address());
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
