// weft::net::tcp_stream: one TCP connection (asyncio's StreamReader and StreamWriter in one
// object, Tokio's TcpStream).
//
//     auto conn = co_await weft::net::tcp_stream::connect("localhost", 8080);
//     co_await conn.write_all("ping\n");
//     std::array<char, 4096> buffer;
//     std::size_t got = co_await conn.read_some(buffer);     // 0: the peer closed
//
// Every operation suspends the task, never the worker, while the socket is not ready, and
// is cancellable: a cancelled read, write or connect leaves the reactor at once with
// cancelled_error, and the stream stays usable (a write cancelled midway may have sent part
// of its data). Errors are std::system_error carrying the errno (ECONNREFUSED, ECONNRESET,
// EPIPE, ...), with a message naming the operation and the peer. One task may read while
// another writes; a stream is move-only, closes its socket when destroyed, must be used
// inside the runtime that made it, and must not be closed while a task awaits on it.
// Binary data goes through the std::byte overloads; weft::net::stream_reader
// (<weft/net/stream_reader.hpp>) reads lines, delimited records and exact counts.
//
// A stream may outlive its runtime (returned from weft::run, or kept by another thread):
// closing or destroying it then, on any thread, only closes the descriptor. read_some,
// read_exact and write_all on it throw weft::runtime_error ("... its runtime has ended"),
// also inside a later run; shutdown_write, set_nodelay and local_port act on the
// descriptor alone and still work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>

namespace weft::net {

// A read of an exact count, or up to a delimiter, met the end of the stream first
// (asyncio.IncompleteReadError).
class incomplete_read : public std::runtime_error {
public:
    // `reader` names the operation that read, and the peer when it knows one
    // ("weft::net::tcp_stream::read_exact 127.0.0.1:8080"); the message adds what was read.
    incomplete_read(const std::string& reader, std::size_t bytes_read, std::size_t expected);
    // The bytes read into the buffer before the end.
    std::size_t bytes_read() const noexcept { return bytes_read_; }
    // `expected` is 0 when the read waited for a delimiter rather than a count.
    std::size_t expected() const noexcept { return expected_; }

private:
    std::size_t bytes_read_;
    std::size_t expected_;
};

class tcp_stream {
public:
    // An empty stream (is_open() false), to move a connection into.
    tcp_stream() noexcept = default;
    tcp_stream(tcp_stream&&) noexcept = default;
    tcp_stream& operator=(tcp_stream&&) noexcept = default;

    // Connects to `host` (a name, resolved on the blocking pool by weft::net::resolve, or a
    // numeric IPv4 or IPv6 address), trying each address it resolves to in turn.
    static coro<tcp_stream> connect(std::string host, std::uint16_t port);

    // Reads what is available, at most buffer.size() bytes, waiting until something is;
    // returns 0 at the end of the stream (or for an empty buffer).
    coro<std::size_t> read_some(std::span<char> buffer);
    coro<std::size_t> read_some(std::span<std::byte> buffer);
    // Fills the whole buffer; throws incomplete_read if the stream ends first.
    coro<> read_exact(std::span<char> buffer);
    coro<> read_exact(std::span<std::byte> buffer);
    // Writes all of `data`, waiting while the socket's send buffer is full.
    coro<> write_all(std::string_view data);
    coro<> write_all(std::span<const std::byte> data);
    // Writes all of several buffers, in order, with as few system calls as the socket
    // allows (sendmsg of up to IOV_MAX buffers at a time; a partial send resumes midway).
    coro<> write_all_vectored(std::span<const std::string_view> buffers);
    coro<> write_all_vectored(std::span<const std::span<const std::byte>> buffers);

    // Sends the end of the stream to the peer (half-close); reading goes on.
    void shutdown_write();
    // TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
    void set_nodelay(bool enabled = true);
    // Closes the socket now; the destructor does it otherwise.
    void close() noexcept { socket_.close(); }

    bool is_open() const noexcept { return socket_.is_open(); }
    int native_handle() const noexcept { return socket_.fd(); }
    std::uint16_t local_port() const;
    // The peer's address, as "127.0.0.1:8080" or "[::1]:8080".
    const std::string& peer() const noexcept { return socket_.address(); }

private:
    friend class tcp_listener;

    explicit tcp_stream(weft::detail::attached_socket socket) noexcept
        : socket_(std::move(socket)) {}

    weft::detail::attached_socket socket_;
};

} // namespace weft::net
