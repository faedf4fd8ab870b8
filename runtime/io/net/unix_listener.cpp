// weft::net::unix_listener: bind (removing a stale socket file first if need be,
// io/net/unix_socket_file.hpp), listen, then accept as every weft listener does
// (io/net/stream_io.hpp). Closing removes the socket file bind made, and never one that
// replaced it.
#include <weft/net/unix_listener.hpp>

#include <sys/socket.h>

#include <string>
#include <utility>

#include "io/net/stream_io.hpp"
#include "io/net/unix_socket_file.hpp"

namespace weft::net {

namespace ops = weft::detail::net;

namespace {

constexpr const char* closed = "the listener is closed";

} // namespace

unix_listener unix_listener::bind(std::string_view path, int backlog) {
    static constexpr const char* operation = "weft::net::unix_listener::bind";
    const int fd = ops::bind_unix_socket(path, SOCK_STREAM, backlog, operation);
    const std::string name(path);
    const detail::unix_socket_file file = detail::unix_socket_file::at(name);
    weft::detail::attached_socket socket(fd, operation);
    socket.set_address(name);
    return unix_listener(std::move(socket), file);
}

coro<unix_stream> unix_listener::accept() {
    ops::accepted_connection accepted =
        co_await ops::accept_from(socket_, "weft::net::unix_listener::accept", closed);
    accepted.socket.set_address(socket_.address());
    co_return unix_stream(std::move(accepted.socket));
}

void unix_listener::close() noexcept {
    if (!socket_.is_open()) {
        return;
    }
    file_.remove(path());
    socket_.close();
}

} // namespace weft::net
