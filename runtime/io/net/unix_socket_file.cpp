// Unix socket files: binding a path (removing a stale file first) and removing the file a
// socket made; see io/net/unix_socket_file.hpp and weft/net/unix_socket_file.hpp.
#include "io/net/unix_socket_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <tuple>
#include <utility>

#include <weft/net/unix_socket_file.hpp>

#include "io/net/socket_ops.hpp"

namespace weft::detail::net {

namespace {

// Whether `path` is a socket file that no socket is bound to any more (a connection to it is
// refused), left behind by one that ended without removing it. The probe is of the bound
// socket's own `type`: a live socket of the other type answers EPROTOTYPE and is kept.
bool is_stale_socket_file(const std::string& path, const endpoint& where, int type) noexcept {
    struct stat found {};
    if (::lstat(path.c_str(), &found) != 0 || !S_ISSOCK(found.st_mode)) {
        return false;
    }
    const int probe = open_socket(AF_UNIX, type);
    if (probe < 0) {
        return false;
    }
    const bool refused = start_connect(probe, where) == -ECONNREFUSED;
    ::close(probe);
    return refused;
}

// Binds (and listens, given a backlog), or returns -errno and closes `fd`.
int bind_or_close(int fd, const endpoint& where, std::optional<int> backlog) noexcept {
    int result = bind_to(fd, where);
    if (result == 0 && backlog) {
        result = listen_on(fd, *backlog);
    }
    if (result < 0) {
        ::close(fd);
    }
    return result;
}

} // namespace

bool is_abstract_unix_path(std::string_view path) noexcept {
    return path.front() == '@' || path.front() == '\0';
}

int bind_unix_socket(std::string_view path, int type, std::optional<int> backlog,
                     const char* operation) {
    const endpoint where = unix_endpoint(path, operation);
    const std::string name(path);
    auto bound_socket = [&] {
        const int fd = open_socket(AF_UNIX, type);
        if (fd < 0) {
            throw_socket_error(-fd, operation, name);
        }
        return std::pair{fd, bind_or_close(fd, where, backlog)};
    };
    auto [fd, result] = bound_socket();
    if (result == -EADDRINUSE && !is_abstract_unix_path(path) &&
        is_stale_socket_file(name, where, type) && ::unlink(name.c_str()) == 0) {
        std::tie(fd, result) = bound_socket();
    }
    if (result < 0) {
        throw_socket_error(-result, operation, name);
    }
    return fd;
}

} // namespace weft::detail::net

namespace weft::net::detail {

unix_socket_file unix_socket_file::at(const std::string& path) noexcept {
    unix_socket_file file;
    struct stat made {};
    if (!path.empty() && !weft::detail::net::is_abstract_unix_path(path) &&
        ::stat(path.c_str(), &made) == 0) {
        file.exists_ = true;
        file.device_ = made.st_dev;
        file.inode_ = made.st_ino;
    }
    return file;
}

void unix_socket_file::remove(const std::string& path) noexcept {
    struct stat found {};
    if (exists_ && ::stat(path.c_str(), &found) == 0 && found.st_dev == device_ &&
        found.st_ino == inode_) {
        ::unlink(path.c_str());
    }
    exists_ = false;
}

} // namespace weft::net::detail
