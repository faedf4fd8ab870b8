// weft::net::unix_stream: one Unix domain stream connection (asyncio's open_unix_connection,
// Tokio's UnixStream), with tcp_stream's shape, so code generic over read_some works on both.
//
//     auto conn = co_await weft::net::unix_stream::connect("/run/app.sock");
//     co_await conn.write_all("ping\n");
//     std::array<char, 4096> buffer;
//     std::size_t got = co_await conn.read_some(buffer);       // 0: the peer closed
//
// A path is a filesystem path, or a Linux abstract name written with a leading '@' (or NUL):
// "@app" is the abstract name "app", which no file backs. A path holds at most 107 bytes
// (sockaddr_un), '@' included; an empty or longer one throws weft::invalid_argument saying
// the limit. Operations, cancellation, errors and life after the runtime are tcp_stream's
// (see tcp_stream.hpp); read_exact throws incomplete_read.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>
#include <weft/net/tcp_stream.hpp>

namespace weft::net {

class unix_stream {
public:
    unix_stream() noexcept = default;
    unix_stream(unix_stream&&) noexcept = default;
    unix_stream& operator=(unix_stream&&) noexcept = default;

    // Connects to the listener at `path`: ENOENT if nothing is there, ECONNREFUSED if
    // nothing listens there any more.
    static coro<unix_stream> connect(std::string path);

    // As tcp_stream's: 0 at the end of the stream; incomplete_read; all of `data`; all of
    // several buffers in order (sendmsg, resuming midway after a partial send).
    coro<std::size_t> read_some(std::span<char> buffer);
    coro<std::size_t> read_some(std::span<std::byte> buffer);
    coro<> read_exact(std::span<char> buffer);
    coro<> read_exact(std::span<std::byte> buffer);
    coro<> write_all(std::string_view data);
    coro<> write_all(std::span<const std::byte> data);
    coro<> write_all_vectored(std::span<const std::string_view> buffers);
    coro<> write_all_vectored(std::span<const std::span<const std::byte>> buffers);

    // Sends the end of the stream to the peer (half-close); reading goes on.
    void shutdown_write();
    void close() noexcept { socket_.close(); }

    bool is_open() const noexcept { return socket_.is_open(); }
    int native_handle() const noexcept { return socket_.fd(); }
    // The path of the listener this stream connected to or was accepted from.
    const std::string& path() const noexcept { return socket_.address(); }

private:
    friend class unix_listener;

    explicit unix_stream(weft::detail::attached_socket socket) noexcept
        : socket_(std::move(socket)) {}

    weft::detail::attached_socket socket_;
};

} // namespace weft::net
