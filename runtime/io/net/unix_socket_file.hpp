// Binding a Unix socket to a path, as unix_listener and unix_datagram_socket do: a socket file
// left at the path by a socket that is gone (connecting to it is refused) is removed and the
// path bound again, as asyncio does; a file that is not a socket, or the file of a live socket,
// fails with EADDRINUSE. An abstract name ('@' or NUL first) has no file to remove.
#pragma once

#include <optional>
#include <string_view>

namespace weft::detail::net {

// Whether `path` is an abstract name rather than a filesystem path (`path` is not empty).
bool is_abstract_unix_path(std::string_view path) noexcept;

// A new non-blocking socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to `path`, listening
// with `backlog` pending connections if one is given. Throws weft::invalid_argument for a
// path unix_endpoint refuses and std::system_error naming `operation` and `path` otherwise.
int bind_unix_socket(std::string_view path, int type, std::optional<int> backlog,
                     const char* operation);

} // namespace weft::detail::net
