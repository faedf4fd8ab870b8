// The system calls of weft's sockets (TCP, UDP, Unix), and the addresses they take.
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
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::detail {
class attached_socket;
struct io_source;
} // namespace weft::detail

namespace weft::net {
class address;
} // namespace weft::net

namespace weft::detail::net {

// An IPv4, IPv6 or Unix socket address, ready for bind or connect.
struct endpoint {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const noexcept { return storage.ss_family; }
    const sockaddr* address() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    std::uint16_t port() const noexcept;
    // "127.0.0.1" or "::1"; a Unix socket's path, or "@name" for an abstract one.
    std::string host() const;
    // "127.0.0.1:80" or "[::1]:80"; a Unix socket's as host().
    std::string describe() const;
};

// The conversions to and from the public weft::net::address (IPv4 and IPv6 only).
endpoint endpoint_of(const weft::net::address& where) noexcept;
weft::net::address address_of(const endpoint& where) noexcept;

// A numeric IPv4 or IPv6 address, or nothing if `host` is not one.
std::optional<endpoint> parse_numeric(std::string_view host, std::uint16_t port);
// The Unix socket address of `path`: a filesystem path, or an abstract name after a leading
// '@' or NUL. Throws weft::invalid_argument, naming `operation`, for an empty path or one
// longer than sockaddr_un holds (unix_path_limit bytes).
endpoint unix_endpoint(std::string_view path, const char* operation);
// The path of a Unix socket address as unix_endpoint takes it ("@name" for an abstract one),
// or "" for an unbound socket's (no path, or no address at all).
std::string unix_path_of(const endpoint& where);
// The longest Unix socket path, without its NUL terminator (or an abstract name, with its
// leading '@' or NUL).
inline constexpr std::size_t unix_path_limit = sizeof(sockaddr_un::sun_path) - 1;

// The address a socket is bound to, or its peer's.
endpoint local_endpoint(int fd);
endpoint peer_endpoint(int fd);

// A non-blocking, close-on-exec TCP socket of `family`, or -errno.
[[gnu::noinline]] int open_stream_socket(int family) noexcept;
// A non-blocking, close-on-exec socket of `family` and `type` (SOCK_DGRAM, SOCK_STREAM for
// AF_UNIX), or -errno.
[[gnu::noinline]] int open_socket(int family, int type) noexcept;
// Two connected non-blocking, close-on-exec AF_UNIX sockets of `type` into `fds`: 0 or -errno.
[[gnu::noinline]] int open_socket_pair(int type, int (&fds)[2]) noexcept;
[[gnu::noinline]] int bind_and_listen(int fd, const endpoint& where, int backlog) noexcept;
// bind alone (UDP; Unix sockets, which then listen()), 0 or -errno.
[[gnu::noinline]] int bind_to(int fd, const endpoint& where) noexcept;
[[gnu::noinline]] int listen_on(int fd, int backlog) noexcept;
[[gnu::noinline]] int start_connect(int fd, const endpoint& where) noexcept;
// The outcome of a non-blocking connect (SO_ERROR): 0 or the positive error.
[[gnu::noinline]] int connect_result(int fd) noexcept;
[[gnu::noinline]] int accept_stream(int listener, endpoint& peer) noexcept;
[[gnu::noinline]] ssize_t receive(int fd, char* data, std::size_t size) noexcept;
[[gnu::noinline]] ssize_t send_some(int fd, const char* data, std::size_t size) noexcept;
// One datagram, to `to` (nullptr: the connected peer); the size sent or -errno.
[[gnu::noinline]] ssize_t send_datagram(int fd, const char* data, std::size_t size,
                                        const endpoint* to) noexcept;
// One datagram into `data`; the bytes placed there or -errno. `from` gets the sender and
// `truncated` whether the datagram was longer than `size` (its rest is discarded).
[[gnu::noinline]] ssize_t receive_datagram(int fd, char* data, std::size_t size, endpoint& from,
                                           bool& truncated) noexcept;
// Sends from `count` buffers in order (sendmsg); what it returns may end midway in one.
[[gnu::noinline]] ssize_t send_vectored(int fd, const iovec* parts, std::size_t count) noexcept;
[[gnu::noinline]] int set_option(int fd, int level, int name, int value) noexcept;
[[gnu::noinline]] int shutdown_writes(int fd) noexcept;

// Whether a system call's result is EAGAIN: wait for readiness and try again.
inline bool would_block(long result) noexcept {
    return result == -EAGAIN || result == -EWOULDBLOCK;
}

// The source of an open socket; throws invalid_state_error "operation: closed" when empty.
io_source& open_source(const attached_socket& socket, const char* operation, const char* closed);
// Throws weft::runtime_error if the socket's runtime has ended, so that an operation that
// waits for readiness never reaches the reactor that went with it.
void require_live_runtime(const io_source& source, const char* operation,
                          const std::string& address);

// Throws std::system_error(error) with "operation address: reason".
[[noreturn]] void throw_socket_error(int error, const char* operation, const std::string& address);

} // namespace weft::detail::net
