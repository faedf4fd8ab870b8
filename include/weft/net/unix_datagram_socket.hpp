// weft::net::unix_datagram_socket: a Unix domain datagram socket (asyncio's
// create_datagram_endpoint with family=AF_UNIX, Tokio's UnixDatagram), udp_socket's shape with
// paths for addresses.
//
//     auto socket = weft::net::unix_datagram_socket::bind("/run/app.dgram");   // or "@app"
//     co_await socket.send_to("ping", "/run/peer.dgram");
//     std::array<char, 4096> buffer;
//     weft::net::received_unix_datagram got = co_await socket.receive_from(buffer);
//     co_await socket.send_to("pong", got.sender);      // an unbound sender's is "": no reply
//
// Paths are unix_stream's (a filesystem path, or an abstract name after '@'); an empty or too
// long one throws weft::invalid_argument saying the limit. bind takes a stale socket file
// and removes its own on close as unix_listener does. An unbound socket sends, but its
// datagrams' sender is empty, so nobody can answer; it receives only as one of a pair(). Datagrams,
// truncation, connect, cancellation, timeouts, errors and life after the runtime are
// udp_socket's (see udp_socket.hpp): connect to a path nothing is bound to throws ENOENT or
// ECONNREFUSED. A send to a receiver whose queue is full waits until it can go.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>
#include <weft/net/unix_socket_file.hpp>

namespace weft::net {

// What a receive put in the buffer.
struct received_unix_datagram {
    std::size_t size = 0;   // bytes placed in the buffer
    bool truncated = false; // the datagram was longer than the buffer; its rest is lost
    std::string sender;     // the sender's path ("@name" if abstract), "" if it is unbound
};

class unix_datagram_socket {
public:
    // A socket bound to `path`. Inside a runtime only, as are unbound and pair.
    static unix_datagram_socket bind(std::string_view path);
    // A socket bound to nothing (it can still send, and connect).
    static unix_datagram_socket unbound();
    // Two unbound sockets connected to each other (socketpair).
    static std::pair<unix_datagram_socket, unix_datagram_socket> pair();

    unix_datagram_socket() noexcept = default;
    unix_datagram_socket(unix_datagram_socket&& other) noexcept = default;
    unix_datagram_socket& operator=(unix_datagram_socket&& other) noexcept {
        if (this != &other) {
            close();
            socket_ = std::move(other.socket_);
            file_ = other.file_;
        }
        return *this;
    }
    ~unix_datagram_socket() { close(); }

    // Sets the default peer of send and receive, and filters what arrives to it.
    void connect(std::string_view path);

    coro<> send_to(std::string_view datagram, std::string path);
    coro<> send_to(std::span<const std::byte> datagram, std::string path) {
        return send_to(as_chars(datagram), std::move(path));
    }
    coro<received_unix_datagram> receive_from(std::span<char> buffer);
    coro<received_unix_datagram> receive_from(std::span<std::byte> buffer) {
        return receive_from(std::span(reinterpret_cast<char*>(buffer.data()), buffer.size()));
    }

    // The connected forms (after connect, or of a pair).
    coro<> send(std::string_view datagram);
    coro<> send(std::span<const std::byte> datagram) { return send(as_chars(datagram)); }
    coro<received_unix_datagram> receive(std::span<char> buffer) { return receive_from(buffer); }
    coro<received_unix_datagram> receive(std::span<std::byte> buffer) {
        return receive_from(buffer);
    }

    // The path it is bound to, as given; "" if unbound.
    const std::string& local_path() const noexcept { return socket_.address(); }
    bool is_open() const noexcept { return socket_.is_open(); }
    int native_handle() const noexcept { return socket_.fd(); }
    // Closes the socket and removes the socket file bind made; the destructor does it otherwise.
    void close() noexcept;

private:
    unix_datagram_socket(weft::detail::attached_socket socket,
                         detail::unix_socket_file file) noexcept
        : socket_(std::move(socket)), file_(file) {}

    static std::string_view as_chars(std::span<const std::byte> bytes) noexcept {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }

    weft::detail::attached_socket socket_;
    detail::unix_socket_file file_; // the socket file bind made, to remove only that one
};

} // namespace weft::net
