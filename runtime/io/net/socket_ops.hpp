// The system calls of weft's sockets, and the addresses they take.
//
// Every call returns its result or -errno and is out of line: errno is thread-local, and a
// coroutine that reads it after a co_await may be running on another thread than the one
// whose errno address the compiler remembered (__errno_location is a const function). So
// no coroutine reads errno itself.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace weft::detail {
class attached_socket;
struct io_source;
} // namespace weft::detail

namespace weft::detail::net {

// An IPv4 or IPv6 address and port, ready for bind or connect.
struct endpoint {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const noexcept { return storage.ss_family; }
    const sockaddr* address() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    std::uint16_t port() const noexcept;
    // "127.0.0.1:80" or "[::1]:80".
    std::string describe() const;
};

// A numeric IPv4 or IPv6 address, or nothing if `host` is not one.
std::optional<endpoint> parse_numeric(std::string_view host, std::uint16_t port);
// Every TCP address `host` resolves to (getaddrinfo: blocking, for the blocking pool).
// Throws std::system_error in resolver_category() if the lookup fails.
std::vector<endpoint> resolve(const std::string& host, std::uint16_t port);
// The category of getaddrinfo's EAI_ codes.
const std::error_category& resolver_category() noexcept;

// The address a socket is bound to, or its peer's.
endpoint local_endpoint(int fd);
endpoint peer_endpoint(int fd);

// A non-blocking, close-on-exec TCP socket of `family`, or -errno.
[[gnu::noinline]] int open_stream_socket(int family) noexcept;
[[gnu::noinline]] int bind_and_listen(int fd, const endpoint& where, int backlog) noexcept;
[[gnu::noinline]] int start_connect(int fd, const endpoint& where) noexcept;
// The outcome of a non-blocking connect (SO_ERROR): 0 or the positive error.
[[gnu::noinline]] int connect_result(int fd) noexcept;
[[gnu::noinline]] int accept_stream(int listener, endpoint& peer) noexcept;
[[gnu::noinline]] ssize_t receive(int fd, char* data, std::size_t size) noexcept;
[[gnu::noinline]] ssize_t send_some(int fd, const char* data, std::size_t size) noexcept;
// Sends from `count` buffers in order (sendmsg); what it returns may end midway in one.
[[gnu::noinline]] ssize_t send_vectored(int fd, const iovec* parts, std::size_t count) noexcept;
[[gnu::noinline]] int set_option(int fd, int level, int name, int value) noexcept;
[[gnu::noinline]] int shutdown_writes(int fd) noexcept;

// The source of an open socket; throws invalid_state_error "operation: closed" when empty.
io_source& open_source(const attached_socket& socket, const char* operation, const char* closed);
// Throws weft::runtime_error if the socket's runtime has ended, so that an operation that
// waits for readiness never reaches the reactor that went with it.
void require_live_runtime(const io_source& source, const char* operation,
                          const std::string& address);

// Throws std::system_error(error) with "operation address: reason".
[[noreturn]] void throw_socket_error(int error, const char* operation, const std::string& address);

} // namespace weft::detail::net
