// weft::net::udp_socket: a UDP socket (asyncio's create_datagram_endpoint, Tokio's UdpSocket).
//
//     auto socket = weft::net::udp_socket::bind("127.0.0.1", 0);       // 0: any free port
//     co_await socket.send_to("ping", *weft::net::address::parse("127.0.0.1", 9000));
//     std::array<char, 1500> buffer;
//     weft::net::received_datagram got = co_await socket.receive_from(buffer);
//
// Each send sends one whole datagram, each receive takes one; a datagram longer than the
// buffer fills it, the rest is discarded by the kernel, and `truncated` says so (MSG_TRUNC).
// An empty datagram is received as size 0. After connect(peer), send and receive talk to
// that peer only, and an ICMP "port unreachable" for an earlier send fails a later call with
// ECONNREFUSED. Every operation suspends the task, never the worker, and is cancellable: a
// cancelled send or receive leaves the reactor at once with cancelled_error, and the socket
// stays usable (so wait_for and timeout work). Errors are std::system_error with the errno,
// naming the operation and the address. Buffers are chars or bytes, as in tcp_stream. One
// task may receive while another sends; the socket is move-only, closes when destroyed, and
// after its runtime ended behaves as tcp_stream's does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>
#include <weft/net/address.hpp>

namespace weft::net {

// What a receive put in the buffer.
struct received_datagram {
    std::size_t size = 0;   // bytes placed in the buffer
    bool truncated = false; // the datagram was longer than the buffer; its rest is lost
    address sender;
};

class udp_socket {
public:
    // Binds a new socket to a numeric IPv4 or IPv6 address (throws EINVAL for a name:
    // resolve it first), or to an address resolve() returned. No SO_REUSEADDR: a port in
    // use throws EADDRINUSE. Inside a runtime only.
    static udp_socket bind(std::string_view host, std::uint16_t port);
    static udp_socket bind(const address& where);

    udp_socket() noexcept = default;
    udp_socket(udp_socket&&) noexcept = default;
    udp_socket& operator=(udp_socket&&) noexcept = default;

    // Sets the default peer of send and receive, and filters what arrives to it.
    void connect(const address& peer);

    coro<> send_to(std::string_view datagram, const address& to);
    coro<> send_to(std::span<const std::byte> datagram, const address& to) {
        return send_to(as_chars(datagram), to);
    }
    coro<received_datagram> receive_from(std::span<char> buffer);
    coro<received_datagram> receive_from(std::span<std::byte> buffer) {
        return receive_from(std::span(reinterpret_cast<char*>(buffer.data()), buffer.size()));
    }

    // The connected forms (after connect); `sender` is the peer.
    coro<> send(std::string_view datagram);
    coro<> send(std::span<const std::byte> datagram) { return send(as_chars(datagram)); }
    coro<received_datagram> receive(std::span<char> buffer) { return receive_from(buffer); }
    coro<received_datagram> receive(std::span<std::byte> buffer) { return receive_from(buffer); }

    // The address it is bound to (with the port the kernel picked, for port 0).
    address local_address() const;
    bool is_open() const noexcept { return socket_.is_open(); }
    int native_handle() const noexcept { return socket_.fd(); }
    void close() noexcept { socket_.close(); }

private:
    explicit udp_socket(weft::detail::attached_socket socket) noexcept
        : socket_(std::move(socket)) {}

    static std::string_view as_chars(std::span<const std::byte> bytes) noexcept {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }

    weft::detail::attached_socket socket_;
};

} // namespace weft::net
