// weft::net::unix_datagram_socket: the datagram operations every weft datagram socket shares
// (io/net/datagram_io.hpp), with Unix socket paths; bind goes through the Unix socket file
// handling unix_listener uses (io/net/unix_socket_file.hpp). The bound path names the socket
// in errors (an unbound one names only the destination).
#include <weft/net/unix_datagram_socket.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "io/io_source.hpp"
#include "io/net/datagram_io.hpp"
#include "io/net/socket_ops.hpp"
#include "io/net/unix_socket_file.hpp"

namespace weft::net {

namespace ops = weft::detail::net;

namespace {

// What an operation on a closed (or moved-from) socket says.
constexpr const char* closed = "the socket is closed (or empty)";

} // namespace

unix_datagram_socket unix_datagram_socket::bind(std::string_view path) {
    static constexpr const char* operation = "weft::net::unix_datagram_socket::bind";
    const int fd = ops::bind_unix_socket(path, SOCK_DGRAM, std::nullopt, operation);
    std::string name(path);
    const detail::unix_socket_file file = detail::unix_socket_file::at(name);
    weft::detail::attached_socket socket(fd, operation);
    socket.set_address(std::move(name));
    return unix_datagram_socket(std::move(socket), file);
}

unix_datagram_socket unix_datagram_socket::unbound() {
    static constexpr const char* operation = "weft::net::unix_datagram_socket::unbound";
    const int fd = ops::open_socket(AF_UNIX, SOCK_DGRAM);
    if (fd < 0) {
        ops::throw_socket_error(-fd, operation, "");
    }
    return unix_datagram_socket(weft::detail::attached_socket(fd, operation), {});
}

std::pair<unix_datagram_socket, unix_datagram_socket> unix_datagram_socket::pair() {
    static constexpr const char* operation = "weft::net::unix_datagram_socket::pair";
    int fds[2] = {-1, -1};
    if (const int result = ops::open_socket_pair(SOCK_DGRAM, fds); result < 0) {
        ops::throw_socket_error(-result, operation, "");
    }
    std::optional<weft::detail::attached_socket> first;
    try {
        first.emplace(fds[0], operation);
    } catch (...) { // attaching closed fds[0]; fds[1] is still ours
        ::close(fds[1]);
        throw;
    }
    weft::detail::attached_socket second(fds[1], operation);
    return {unix_datagram_socket(std::move(*first), {}),
            unix_datagram_socket(std::move(second), {})};
}

void unix_datagram_socket::connect(std::string_view path) {
    static constexpr const char* operation = "weft::net::unix_datagram_socket::connect";
    const ops::endpoint peer = ops::unix_endpoint(path, operation);
    if (const int result =
            ops::start_connect(ops::open_source(socket_, operation, closed).fd, peer);
        result < 0) {
        ops::throw_socket_error(-result, operation, std::string(path));
    }
}

coro<> unix_datagram_socket::send_to(std::string_view datagram, std::string path) {
    static constexpr const char* operation = "weft::net::unix_datagram_socket::send_to";
    const ops::endpoint to = ops::unix_endpoint(path, operation);
    co_await ops::send_datagram(socket_, datagram, to, operation, closed);
}

coro<> unix_datagram_socket::send(std::string_view datagram) {
    return ops::send_datagram(socket_, datagram, std::nullopt,
                              "weft::net::unix_datagram_socket::send", closed);
}

coro<received_unix_datagram> unix_datagram_socket::receive_from(std::span<char> buffer) {
    const ops::datagram_received got = co_await ops::receive_datagram(
        socket_, buffer, "weft::net::unix_datagram_socket::receive_from", closed);
    co_return received_unix_datagram{got.size, got.truncated, ops::unix_path_of(got.sender)};
}

void unix_datagram_socket::close() noexcept {
    if (!socket_.is_open()) {
        return;
    }
    file_.remove(local_path());
    socket_.close();
}

} // namespace weft::net
