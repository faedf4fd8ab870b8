// weft::net::unix_listener: a listening Unix domain stream socket (asyncio's
// start_unix_server's socket, Tokio's UnixListener).
//
//     auto listener = weft::net::unix_listener::bind("/run/app.sock");    // or "@app"
//     weft::net::unix_stream conn = co_await listener.accept();
//
// Paths are unix_stream's: a filesystem path, or an abstract name after a leading '@'.
// A socket file left at the path by a listener that is gone (connecting to it is refused)
// is removed and the path bound again, as asyncio does; a file that is not a socket, or a
// socket something still listens on, fails bind with EADDRINUSE. Closing or destroying the
// listener removes its socket file, unless another file has replaced it meanwhile (asyncio
// 3.13's cleanup_socket). accept is cancellable and leaves the listener usable. Move-only;
// inside a runtime only, and after its runtime ended it behaves as tcp_listener's does.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>
#include <weft/net/unix_socket_file.hpp>
#include <weft/net/unix_stream.hpp>

namespace weft::net {

class unix_listener {
public:
    // Listens on `path` with a queue of `backlog` pending connections.
    static unix_listener bind(std::string_view path, int backlog = 1024);

    unix_listener() noexcept = default;
    unix_listener(unix_listener&& other) noexcept = default;
    unix_listener& operator=(unix_listener&& other) noexcept {
        if (this != &other) {
            close();
            socket_ = std::move(other.socket_);
            file_ = other.file_;
        }
        return *this;
    }
    ~unix_listener() { close(); }

    // The next connection.
    coro<unix_stream> accept();

    // The path it listens on, as given ("@name" for an abstract one).
    const std::string& path() const noexcept { return socket_.address(); }
    bool is_open() const noexcept { return socket_.is_open(); }
    // Stops listening and removes the socket file it made; the destructor does it otherwise.
    void close() noexcept;

private:
    unix_listener(weft::detail::attached_socket socket, detail::unix_socket_file file) noexcept
        : socket_(std::move(socket)), file_(file) {}

    weft::detail::attached_socket socket_;
    detail::unix_socket_file file_; // the socket file bind made, to remove only that one
};

} // namespace weft::net
