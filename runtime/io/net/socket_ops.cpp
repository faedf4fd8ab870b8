// weft's socket system calls and address handling; see socket_ops.hpp.
#include "io/net/socket_ops.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <system_error>

#include <weft/detail/attached_socket.hpp>
#include <weft/errors.hpp>
#include <weft/net/address.hpp>

#include "io/io_source.hpp"

namespace weft::detail::net {
namespace {

int error_or(int result) noexcept {
    return result < 0 ? -errno : result;
}

endpoint endpoint_of(int fd, int (*query)(int, sockaddr*, socklen_t*), const char* what) {
    endpoint found;
    found.length = sizeof found.storage;
    if (query(fd, reinterpret_cast<sockaddr*>(&found.storage), &found.length) != 0) {
        throw std::system_error(errno, std::generic_category(), what);
    }
    return found;
}

// `text` as a numeric address of `family`, or nothing. Address is the family's socket
// address (sockaddr_in, sockaddr_in6); the member pointers name its family, port and
// address fields, which the two families spell differently.
template <class Address, class Bytes>
std::optional<endpoint> parse_family(const std::string& text, std::uint16_t port,
                                     sa_family_t family, sa_family_t Address::*family_field,
                                     in_port_t Address::*port_field, Bytes Address::*bytes) {
    endpoint parsed;
    auto& address = reinterpret_cast<Address&>(parsed.storage);
    if (inet_pton(family, text.c_str(), &(address.*bytes)) != 1) {
        return std::nullopt;
    }
    address.*family_field = family;
    address.*port_field = htons(port);
    parsed.length = sizeof address;
    return parsed;
}

} // namespace

std::string endpoint::host() const {
    if (family() == AF_UNIX) {
        return unix_path_of(*this);
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr, text,
                  sizeof text);
    } else {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage).sin_addr, text,
                  sizeof text);
    }
    return text;
}

std::string unix_path_of(const endpoint& where) {
    constexpr std::size_t path_offset = offsetof(sockaddr_un, sun_path);
    if (where.length <= path_offset) { // unbound: the family alone, or nothing at all
        return {};
    }
    const auto& local = reinterpret_cast<const sockaddr_un&>(where.storage);
    const std::size_t path_length = where.length - path_offset;
    if (local.sun_path[0] == '\0') { // abstract: no terminator
        return std::string("@").append(local.sun_path + 1, path_length - 1);
    }
    return std::string(local.sun_path, strnlen(local.sun_path, path_length));
}

std::string endpoint::describe() const {
    if (family() == AF_UNIX) {
        return host();
    }
    // Appended piece by piece: g++ 12 warns (-Wrestrict, wrongly) on a chain of operator+.
    std::string described;
    if (family() == AF_INET6) {
        described.append("[").append(host()).append("]");
    } else {
        described.append(host());
    }
    return described.append(":").append(std::to_string(port()));
}

endpoint endpoint_of(const weft::net::address& where) noexcept {
    endpoint converted;
    std::memcpy(&converted.storage, where.native(), where.native_length());
    converted.length = where.native_length();
    return converted;
}

weft::net::address address_of(const endpoint& where) noexcept {
    return weft::net::address(where.address(), where.length);
}

std::uint16_t endpoint::port() const noexcept {
    return ntohs(family() == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(storage).sin6_port
                                      : reinterpret_cast<const sockaddr_in&>(storage).sin_port);
}

std::optional<endpoint> parse_numeric(std::string_view host, std::uint16_t port) {
    const std::string text(host.size() > 2 && host.front() == '[' && host.back() == ']'
                               ? host.substr(1, host.size() - 2)
                               : host);
    if (std::optional<endpoint> ipv4 =
            parse_family(text, port, AF_INET, &sockaddr_in::sin_family, &sockaddr_in::sin_port,
                         &sockaddr_in::sin_addr)) {
        return ipv4;
    }
    return parse_family(text, port, AF_INET6, &sockaddr_in6::sin6_family, &sockaddr_in6::sin6_port,
                        &sockaddr_in6::sin6_addr);
}

endpoint unix_endpoint(std::string_view path, const char* operation) {
    if (path.empty()) {
        throw invalid_argument(std::string(operation) +
                               ": an empty Unix socket path (give a path, or '@name')");
    }
    if (path.size() > unix_path_limit) {
        throw invalid_argument(std::string(operation) + " " + std::string(path) + ": " +
                               std::to_string(path.size()) +
                               " bytes; a Unix socket path holds at most " +
                               std::to_string(unix_path_limit) + " bytes");
    }
    endpoint local;
    auto& unix_address = reinterpret_cast<sockaddr_un&>(local.storage);
    unix_address.sun_family = AF_UNIX;
    std::memcpy(unix_address.sun_path, path.data(), path.size());
    const bool abstract = path.front() == '@' || path.front() == '\0';
    if (abstract) { // the name's bytes are exactly the path's after a leading NUL
        unix_address.sun_path[0] = '\0';
    }
    // A filesystem path ends with its NUL (already zero); an abstract name has none.
    local.length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return local;
}

endpoint local_endpoint(int fd) {
    return endpoint_of(fd, getsockname, "weft::net: getsockname");
}

endpoint peer_endpoint(int fd) {
    return endpoint_of(fd, getpeername, "weft::net: getpeername");
}

int open_stream_socket(int family) noexcept {
    return error_or(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
}

int open_socket(int family, int type) noexcept {
    return error_or(socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

int open_socket_pair(int type, int (&fds)[2]) noexcept {
    return error_or(socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
}

int bind_and_listen(int fd, const endpoint& where, int backlog) noexcept {
    const int reuse = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) != 0 ||
        bind(fd, where.address(), where.length) != 0 || listen(fd, backlog) != 0) {
        return -errno;
    }
    return 0;
}

int bind_to(int fd, const endpoint& where) noexcept {
    return error_or(bind(fd, where.address(), where.length));
}

int listen_on(int fd, int backlog) noexcept {
    return error_or(listen(fd, backlog));
}

int start_connect(int fd, const endpoint& where) noexcept {
    return error_or(connect(fd, where.address(), where.length));
}

int connect_result(int fd) noexcept {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        return errno;
    }
    return error;
}

int accept_stream(int listener, endpoint& peer) noexcept {
    peer.length = sizeof peer.storage;
    return error_or(accept4(listener, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length,
                            SOCK_NONBLOCK | SOCK_CLOEXEC));
}

ssize_t receive(int fd, char* data, std::size_t size) noexcept {
    const ssize_t got = recv(fd, data, size, 0);
    return got < 0 ? -errno : got;
}

ssize_t send_some(int fd, const char* data, std::size_t size) noexcept {
    // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
    const ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    return sent < 0 ? -errno : sent;
}

ssize_t send_datagram(int fd, const char* data, std::size_t size, const endpoint* to) noexcept {
    const ssize_t sent = to != nullptr
                             ? sendto(fd, data, size, MSG_NOSIGNAL, to->address(), to->length)
                             : send(fd, data, size, MSG_NOSIGNAL);
    return sent < 0 ? -errno : sent;
}

ssize_t receive_datagram(int fd, char* data, std::size_t size, endpoint& from,
                         bool& truncated) noexcept {
    iovec buffer{data, size};
    msghdr message{};
    message.msg_name = &from.storage;
    message.msg_namelen = sizeof from.storage;
    message.msg_iov = &buffer;
    message.msg_iovlen = 1;
    const ssize_t got = recvmsg(fd, &message, 0);
    if (got < 0) {
        return -errno;
    }
    from.length = message.msg_namelen;
    truncated = (message.msg_flags & MSG_TRUNC) != 0;
    return got;
}

ssize_t send_vectored(int fd, const iovec* parts, std::size_t count) noexcept {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(parts); // sendmsg only reads the buffers
    message.msg_iovlen = count;
    const ssize_t sent = sendmsg(fd, &message, MSG_NOSIGNAL); // MSG_NOSIGNAL as in send_some
    return sent < 0 ? -errno : sent;
}

int set_option(int fd, int level, int name, int value) noexcept {
    return error_or(setsockopt(fd, level, name, &value, sizeof value));
}

int shutdown_writes(int fd) noexcept {
    return error_or(shutdown(fd, SHUT_WR));
}

io_source& open_source(const attached_socket& socket, const char* operation, const char* closed) {
    if (!socket.is_open()) {
        throw invalid_state_error(std::string(operation) + ": " + closed);
    }
    return *socket.get();
}

void require_live_runtime(const io_source& source, const char* operation,
                          const std::string& address) {
    if (source.orphaned()) {
        throw runtime_error(std::string(operation) + " " + address +
                            ": its runtime has ended (a socket is used only inside the run "
                            "that made it)");
    }
}

void throw_socket_error(int error, const char* operation, const std::string& address) {
    throw std::system_error(error, std::generic_category(),
                            std::string(operation) + (address.empty() ? "" : " " + address));
}

} // namespace weft::detail::net
