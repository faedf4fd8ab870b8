// weft::net::unix_listener: bind (removing a stale socket file first if need be), listen,
// then accept as every weft listener does (io/net/stream_io.hpp). The listener remembers
// the device and inode of the socket file it made, so that closing removes that file and
// never one that replaced it.
#include <weft/net/unix_listener.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <tuple>
#include <utility>

#include "io/net/socket_ops.hpp"
#include "io/net/stream_io.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

constexpr const char* closed = "the listener is closed";

bool is_abstract(std::string_view path) noexcept {
    return path.front() == '@' || path.front() == '\0';
}

// Whether `path` is a socket file that nothing listens on any more (a connection to it is
// refused), left behind by a listener that ended without removing it.
bool is_stale_socket_file(const std::string& path, const ops::endpoint& where) noexcept {
    struct stat found {};
    if (::lstat(path.c_str(), &found) != 0 || !S_ISSOCK(found.st_mode)) {
        return false;
    }
    const int probe = ops::open_socket(AF_UNIX, SOCK_STREAM);
    if (probe < 0) {
        return false;
    }
    const bool refused = ops::start_connect(probe, where) == -ECONNREFUSED;
    ::close(probe);
    return refused;
}

// Binds and listens, or returns -errno (and closes `fd`).
int bind_listening(int fd, const ops::endpoint& where, int backlog) noexcept {
    int result = ops::bind_to(fd, where);
    if (result == 0) {
        result = ops::listen_on(fd, backlog);
    }
    if (result < 0) {
        ::close(fd);
    }
    return result;
}

} // namespace

unix_listener unix_listener::bind(std::string_view path, int backlog) {
    static constexpr const char* operation = "weft::net::unix_listener::bind";
    const ops::endpoint where = ops::unix_endpoint(path, operation);
    const std::string name(path);
    auto listening_socket = [&] {
        const int fd = ops::open_socket(AF_UNIX, SOCK_STREAM);
        if (fd < 0) {
            ops::throw_socket_error(-fd, operation, name);
        }
        return std::pair{fd, bind_listening(fd, where, backlog)};
    };
    auto [fd, result] = listening_socket();
    if (result == -EADDRINUSE && !is_abstract(path) && is_stale_socket_file(name, where) &&
        ::unlink(name.c_str()) == 0) {
        std::tie(fd, result) = listening_socket();
    }
    if (result < 0) {
        ops::throw_socket_error(-result, operation, name);
    }
    socket_file file;
    struct stat made {};
    if (!is_abstract(path) && ::stat(name.c_str(), &made) == 0) {
        file = socket_file{true, made.st_dev, made.st_ino};
    }
    detail::attached_socket socket(fd, operation);
    socket.set_address(name);
    return unix_listener(std::move(socket), file);
}

coro<unix_stream> unix_listener::accept() {
    ops::accepted_connection accepted =
        co_await ops::accept_from(socket_, "weft::net::unix_listener::accept", closed);
    accepted.socket.set_address(socket_.address());
    co_return unix_stream(std::move(accepted.socket));
}

void unix_listener::close() noexcept {
    if (!socket_.is_open()) {
        return;
    }
    struct stat found {};
    if (file_.exists && ::stat(path().c_str(), &found) == 0 && found.st_dev == file_.device &&
        found.st_ino == file_.inode) {
        ::unlink(path().c_str());
    }
    socket_.close();
}

} // namespace weft::net
