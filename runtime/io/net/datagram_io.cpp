// The shared datagram operations; see datagram_io.hpp. The system calls go through
// socket_ops, so no coroutine here reads errno.
#include "io/net/datagram_io.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>

#include <weft/sleep.hpp>

#include "io/io_budget.hpp"
#include "io/io_source.hpp"

namespace weft::detail::net {

namespace {

// What a send's errors name: the socket's own address (none for an unbound Unix socket), and
// the destination if any.
std::string send_target(const attached_socket& socket, const std::optional<endpoint>& to) {
    std::string target = socket.address();
    if (to) {
        target.append(target.empty() ? "to " : " to ").append(to->describe());
    }
    return target;
}

} // namespace

coro<> send_datagram(const attached_socket& socket, std::string_view datagram,
                     std::optional<endpoint> to, const char* operation, const char* closed) {
    io_source& source = open_source(socket, operation, closed);
    require_live_runtime(source, operation, socket.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    for (;;) {
        const std::uint64_t seen = source.writable.observe();
        const ssize_t sent =
            net::send_datagram(source.fd, datagram.data(), datagram.size(), to ? &*to : nullptr);
        if (sent >= 0) {
            co_return;
        }
        if (sent == -EINTR) {
            continue;
        }
        if (!would_block(sent)) {
            throw_socket_error(static_cast<int>(-sent), operation, send_target(socket, to));
        }
        co_await readiness_awaiter(source.writable, seen, operation);
    }
}

coro<datagram_received> receive_datagram(const attached_socket& socket, std::span<char> buffer,
                                         const char* operation, const char* closed) {
    io_source& source = open_source(socket, operation, closed);
    require_live_runtime(source, operation, socket.address());
    if (spend_io_budget()) {
        co_await weft::sleep(std::chrono::nanoseconds(0)); // see io/io_budget.hpp
    }
    for (;;) {
        const std::uint64_t seen = source.readable.observe();
        datagram_received got;
        const ssize_t size = net::receive_datagram(source.fd, buffer.data(), buffer.size(),
                                                   got.sender, got.truncated);
        if (size >= 0) {
            got.size = static_cast<std::size_t>(size);
            co_return got;
        }
        if (size == -EINTR) {
            continue;
        }
        if (!would_block(size)) {
            throw_socket_error(static_cast<int>(-size), operation, socket.address());
        }
        co_await readiness_awaiter(source.readable, seen, operation);
    }
}

} // namespace weft::detail::net
