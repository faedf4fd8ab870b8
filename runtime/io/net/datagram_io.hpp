// The operations every weft datagram socket (udp_socket, unix_datagram_socket) shares, on the
// attached_socket it owns: each sends or receives one whole datagram, trying its system call
// (sendto, recvmsg) and, on EAGAIN, waiting cancellably for the next readiness edge of its
// direction (runtime/io/io_source.hpp), as the stream operations do (io/net/stream_io.hpp).
// The public types convert addresses to and from endpoints and name themselves in errors.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include <weft/coro.hpp>
#include <weft/detail/attached_socket.hpp>

#include "io/net/socket_ops.hpp"

namespace weft::detail::net {

// Sends `datagram` whole to `to` (nothing: the connected peer), waiting while the socket
// cannot take it. Errors name `operation`, the socket's address and `to`.
coro<> send_datagram(const attached_socket& socket, std::string_view datagram,
                     std::optional<endpoint> to, const char* operation, const char* closed);

// One received datagram: the bytes placed in the buffer, whether its rest was discarded, and
// who sent it.
struct datagram_received {
    std::size_t size = 0;
    bool truncated = false;
    endpoint sender;
};

// The next datagram, into `buffer`, waiting until one arrives.
coro<datagram_received> receive_datagram(const attached_socket& socket, std::span<char> buffer,
                                         const char* operation, const char* closed);

} // namespace weft::detail::net
