// weft::net::tcp_listener: a listening TCP socket that accepts connections (the listening
// half of asyncio.start_server, Tokio's TcpListener).
//
//     auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);   // 0: any free port
//     std::uint16_t port = listener.local_port();
//     weft::net::tcp_stream conn = co_await listener.accept();
//
// bind takes a numeric IPv4 or IPv6 address ("0.0.0.0", "::1", ...), or the addresses
// weft::net::resolve found for a name (the first that binds is used), and sets SO_REUSEADDR,
// as asyncio and Tokio do; errors are std::system_error with the errno (EADDRINUSE for a
// taken port) and a message naming the address. It must be called inside a runtime, whose
// reactor the listener uses. accept suspends the task until a connection arrives and is
// cancellable; the listener stays usable. Move-only; closes its socket when destroyed. A
// listener that outlives its runtime closes (on any thread) without it, and its accept
// throws weft::runtime_error ("... its runtime has ended"), also inside a later run.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>
#include <weft/net/address.hpp>
#include <weft/net/tcp_stream.hpp>

namespace weft::net {

class tcp_listener {
public:
    // Listens on `address`:`port` with a queue of `backlog` pending connections.
    static tcp_listener bind(std::string_view address, std::uint16_t port, int backlog = 1024);
    static tcp_listener bind(const address& where, int backlog = 1024);
    // The first of `candidates` that binds (as resolve returns them); the last one's error
    // if none does.
    static tcp_listener bind(std::span<const address> candidates, int backlog = 1024);

    tcp_listener() noexcept = default;
    tcp_listener(tcp_listener&&) noexcept = default;
    tcp_listener& operator=(tcp_listener&&) noexcept = default;

    // The next connection.
    coro<tcp_stream> accept();

    // The port it listens on (the one the kernel picked, for port 0).
    std::uint16_t local_port() const;
    // The address it listens on, as "127.0.0.1:8080" or "[::1]:8080".
    const std::string& local_address() const noexcept { return socket_.address(); }
    bool is_open() const noexcept { return socket_.is_open(); }
    // Stops listening now; the destructor does it otherwise.
    void close() noexcept { socket_.close(); }

private:
    explicit tcp_listener(weft::detail::attached_socket socket) noexcept
        : socket_(std::move(socket)) {}

    weft::detail::attached_socket socket_;
};

} // namespace weft::net
