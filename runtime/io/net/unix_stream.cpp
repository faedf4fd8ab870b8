// weft::net::unix_stream: the stream operations every weft stream shares
// (io/net/stream_io.hpp), on an AF_UNIX socket; connect waits for the socket to be writable
// when the kernel does not connect at once.
#include <weft/net/unix_stream.hpp>

#include <sys/socket.h>

#include "io/net/socket_ops.hpp"
#include "io/net/stream_io.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

constexpr ops::stream_names names{
    .read_some = "weft::net::unix_stream::read_some",
    .read_exact = "weft::net::unix_stream::read_exact",
    .write_all = "weft::net::unix_stream::write_all",
    .write_all_vectored = "weft::net::unix_stream::write_all_vectored",
    .shutdown_write = "weft::net::unix_stream::shutdown_write",
    .closed = "the stream is closed (or empty)",
};

} // namespace

coro<unix_stream> unix_stream::connect(std::string path) {
    static constexpr const char* operation = "weft::net::unix_stream::connect";
    const ops::endpoint where = ops::unix_endpoint(path, operation);
    const int fd = ops::open_socket(AF_UNIX, SOCK_STREAM);
    if (fd < 0) {
        ops::throw_socket_error(-fd, operation, path);
    }
    unix_stream stream{detail::attached_socket(fd, operation)};
    stream.socket_.set_address(std::move(path));
    if (const int error = co_await ops::connect_to(stream.socket_, where, operation); error != 0) {
        ops::throw_socket_error(error, operation, stream.path());
    }
    co_return stream;
}

coro<std::size_t> unix_stream::read_some(std::span<char> buffer) {
    return ops::read_some(socket_, buffer, names);
}

coro<std::size_t> unix_stream::read_some(std::span<std::byte> buffer) {
    return ops::read_some(socket_, buffer, names);
}

coro<> unix_stream::read_exact(std::span<char> buffer) {
    return ops::read_exact(socket_, buffer, names);
}

coro<> unix_stream::read_exact(std::span<std::byte> buffer) {
    return ops::read_exact(socket_, buffer, names);
}

coro<> unix_stream::write_all(std::string_view data) {
    return ops::write_all(socket_, data, names);
}

coro<> unix_stream::write_all(std::span<const std::byte> data) {
    return ops::write_all(socket_, data, names);
}

coro<> unix_stream::write_all_vectored(std::span<const std::string_view> buffers) {
    return ops::write_all_vectored(socket_, buffers, names);
}

coro<> unix_stream::write_all_vectored(std::span<const std::span<const std::byte>> buffers) {
    return ops::write_all_vectored(socket_, buffers, names);
}

void unix_stream::shutdown_write() {
    ops::shutdown_write(socket_, names);
}

} // namespace weft::net
