// weft::net::tcp_stream: the stream operations are the ones every weft stream shares
// (io/net/stream_io.hpp: try the system call, on EAGAIN wait for the next readiness edge);
// connect resolves through weft::net::resolve and tries each address in turn.
#include <weft/net/tcp_stream.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <weft/net/address.hpp>
#include <weft/net/resolve.hpp>

#include "io/io_source.hpp"
#include "io/net/socket_ops.hpp"
#include "io/net/stream_io.hpp"

namespace weft::net {

namespace ops = detail::net;

namespace {

// What an operation on a closed (or moved-from) stream says.
constexpr const char* closed = "the stream is closed (or empty)";

constexpr ops::stream_names names{
    .read_some = "weft::net::tcp_stream::read_some",
    .read_exact = "weft::net::tcp_stream::read_exact",
    .write_all = "weft::net::tcp_stream::write_all",
    .write_all_vectored = "weft::net::tcp_stream::write_all_vectored",
    .shutdown_write = "weft::net::tcp_stream::shutdown_write",
    .closed = closed,
};

} // namespace

incomplete_read::incomplete_read(const std::string& reader, std::size_t bytes_read,
                                 std::size_t expected)
    : std::runtime_error(reader + ": the stream ended after " + std::to_string(bytes_read) +
                         (expected == 0 ? " bytes, before the delimiter"
                                        : " of " + std::to_string(expected) + " bytes")),
      bytes_read_(bytes_read), expected_(expected) {}

std::uint16_t tcp_stream::local_port() const {
    return ops::local_endpoint(
               ops::open_source(socket_, "weft::net::tcp_stream::local_port", closed).fd)
        .port();
}

coro<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port) {
    static constexpr const char* operation = "weft::net::tcp_stream::connect";
    const std::vector<address> candidates = co_await resolve(host, port);
    int last_error = EADDRNOTAVAIL;
    std::string last_address;
    for (const address& candidate : candidates) {
        last_address = candidate.to_string();
        const int fd = ops::open_stream_socket(candidate.family());
        if (fd < 0) { // say, an IPv6 address on a machine without IPv6: try the next
            last_error = -fd;
            continue;
        }
        tcp_stream stream{detail::attached_socket(fd, operation)};
        stream.socket_.set_address(last_address);
        last_error =
            co_await ops::connect_to(stream.socket_, ops::endpoint_of(candidate), operation);
        if (last_error == 0) {
            co_return stream;
        }
    }
    ops::throw_socket_error(last_error, operation, last_address);
}

coro<std::size_t> tcp_stream::read_some(std::span<char> buffer) {
    return ops::read_some(socket_, buffer, names);
}

coro<std::size_t> tcp_stream::read_some(std::span<std::byte> buffer) {
    return ops::read_some(socket_, buffer, names);
}

coro<> tcp_stream::read_exact(std::span<char> buffer) {
    return ops::read_exact(socket_, buffer, names);
}

coro<> tcp_stream::read_exact(std::span<std::byte> buffer) {
    return ops::read_exact(socket_, buffer, names);
}

coro<> tcp_stream::write_all(std::string_view data) {
    return ops::write_all(socket_, data, names);
}

coro<> tcp_stream::write_all(std::span<const std::byte> data) {
    return ops::write_all(socket_, data, names);
}

coro<> tcp_stream::write_all_vectored(std::span<const std::string_view> buffers) {
    return ops::write_all_vectored(socket_, buffers, names);
}

coro<> tcp_stream::write_all_vectored(std::span<const std::span<const std::byte>> buffers) {
    return ops::write_all_vectored(socket_, buffers, names);
}

void tcp_stream::shutdown_write() {
    ops::shutdown_write(socket_, names);
}

void tcp_stream::set_nodelay(bool enabled) {
    static constexpr const char* operation = "weft::net::tcp_stream::set_nodelay";
    if (const int result = ops::set_option(ops::open_source(socket_, operation, closed).fd,
                                           IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
        result < 0) {
        ops::throw_socket_error(-result, operation, socket_.address());
    }
}

} // namespace weft::net
