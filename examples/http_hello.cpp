// http_hello: a minimal HTTP/1.1 server that answers every request with the 13-byte body
// "Hello, World!", keeping connections alive; it exists to be loaded (wrk, ab).
//
//     http_hello [port [workers]]       (port 8080 by default; 0 picks a free one)
//
// Requests are read into a buffer and answered one per "\r\n\r\n", so pipelined requests
// get one response each, in a single write. Requests with a body, and "Connection: close",
// are not understood: this is a load target, not a web server.
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view response = "HTTP/1.1 200 OK\r\n"
                                      "Content-Type: text/plain\r\n"
                                      "Content-Length: 13\r\n"
                                      "\r\n"
                                      "Hello, World!";

weft::coro<> answer(weft::net::tcp_stream conn) {
    conn.set_nodelay();
    std::array<char, 8192> buffer;
    std::size_t held = 0; // bytes of an unfinished request at the buffer's start
    std::string replies;
    for (;;) {
        const std::size_t got = co_await conn.read_some(std::span(buffer).subspan(held));
        if (got == 0) {
            co_return;
        }
        held += got;
        std::string_view pending(buffer.data(), held);
        replies.clear();
        for (std::size_t end; (end = pending.find("\r\n\r\n")) != std::string_view::npos;) {
            replies += response;
            pending.remove_prefix(end + 4);
        }
        if (pending.size() == buffer.size()) {
            co_return; // a request header larger than the buffer: not for this server
        }
        std::memmove(buffer.data(), pending.data(), pending.size());
        held = pending.size();
        if (!replies.empty()) {
            co_await conn.write_all(replies);
        }
    }
}

weft::coro<> serve(std::uint16_t port) {
    auto listener = weft::net::tcp_listener::bind("0.0.0.0", port);
    std::printf("http_hello listening on port %u\n", listener.local_port());
    std::fflush(stdout);
    co_await weft::net::serve(std::move(listener), answer);
}

} // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
    const auto workers = static_cast<std::size_t>(argc > 2 ? std::atoi(argv[2]) : 0);
    weft::run(serve(port), weft::run_options{.workers = workers});
}
