// The operations that every weft stream socket (tcp_stream, unix_stream) and listener
// (tcp_listener, unix_listener) shares, on the attached_socket it owns: each tries its
// system call and, on EAGAIN, waits for the next readiness edge of its direction
// (runtime/io/io_source.hpp), cancellably. The public types name themselves through
// stream_names, so errors say which type and operation failed. The std::byte overloads and
// the vectored writes live here once, so every stream type offers them with one forwarder.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>

#include "io/net/socket_ops.hpp"

namespace weft::detail::net {

// How a stream type names its operations in errors, and what using it closed says.
struct stream_names {
    const char* read_some;
    const char* read_exact;
    const char* write_all;
    const char* write_all_vectored;
    const char* shutdown_write;
    const char* closed;
};

// What is available, at most buffer.size() bytes, waiting until something is; 0 at the end.
coro<std::size_t> read_some(const attached_socket& socket, std::span<char> buffer,
                            const stream_names& names);
coro<std::size_t> read_some(const attached_socket& socket, std::span<std::byte> buffer,
                            const stream_names& names);
// The whole buffer; throws weft::net::incomplete_read if the stream ends first.
coro<> read_exact(const attached_socket& socket, std::span<char> buffer, const stream_names& names);
coro<> read_exact(const attached_socket& socket, std::span<std::byte> buffer,
                  const stream_names& names);
// All of `data`, waiting while the send buffer is full.
coro<> write_all(const attached_socket& socket, std::string_view data, const stream_names& names);
coro<> write_all(const attached_socket& socket, std::span<const std::byte> data,
                 const stream_names& names);
// All of several buffers in order, by sendmsg of up to IOV_MAX buffers a call; after a
// partial send the next call starts in the buffer where it stopped.
coro<> write_all_vectored(const attached_socket& socket, std::span<const std::string_view> buffers,
                          const stream_names& names);
coro<> write_all_vectored(const attached_socket& socket,
                          std::span<const std::span<const std::byte>> buffers,
                          const stream_names& names);
void shutdown_write(const attached_socket& socket, const stream_names& names);

// Connects the attached, non-blocking `socket` to `where`: 0 once connected, else the errno.
coro<int> connect_to(const attached_socket& socket, const endpoint& where, const char* operation);

// One connection from `listener`, attached, and its peer's address.
struct accepted_connection {
    attached_socket socket;
    endpoint peer;
};
coro<accepted_connection> accept_from(const attached_socket& listener, const char* operation,
                                      const char* closed);

} // namespace weft::detail::net
