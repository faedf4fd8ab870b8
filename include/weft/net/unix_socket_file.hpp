// weft::net::detail::unix_socket_file: the file a Unix socket made when it bound a
// filesystem path (unix_listener, unix_datagram_socket), known by device and inode, so that
// the socket removes that file when it closes and never one that has replaced it meanwhile
// (asyncio 3.13's cleanup_socket). Empty for an abstract name, which no file backs. Copyable
// data; what touches the filesystem is out of line in runtime/io/net/unix_socket_file.cpp.
#pragma once

#include <sys/types.h>

#include <string>

namespace weft::net::detail {

class unix_socket_file {
public:
    unix_socket_file() noexcept = default;

    // The socket file now at `path`; empty for an abstract name, or if there is none.
    static unix_socket_file at(const std::string& path) noexcept;
    // Removes the file at `path` if it is still this one, and empties this.
    void remove(const std::string& path) noexcept;

private:
    bool exists_ = false;
    dev_t device_ = 0;
    ino_t inode_ = 0;
};

} // namespace weft::net::detail
