// http_hello: a minimal HTTP/1.1 server that answers every request with the 13-byte body
// "Hello, World!", keeping connections alive; it exists to be loaded (wrk, ab).
//
//     http_hello [port [workers]]       (port 8080 by default; 0 picks a free one)
//
// Requests are read with weft::net::stream_reader, one per "\r\n\r\n"; the requests of a
// pipeline that arrived together get their responses in a single write. Requests with a body, and
// "Connection: close", are not understood: this is a load target, not a web server.
#include <weft/net.hpp>
#include <weft/weft.hpp>

#include <cstdio>
#include <cstdlib>
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
    weft::net::stream_reader reader(conn, 8192); // a larger request header ends the connection
    std::string replies;
    try {
        for (;;) {
            (void)co_await reader.read_until("\r\n\r\n");
            replies += response;
            if (reader.buffered().find("\r\n\r\n") == std::string_view::npos) {
                co_await conn.write_all(replies); // one write for the pipelined requests
                replies.clear();
            }
        }
    } catch (const weft::net::incomplete_read&) { // the client closed
    } catch (const weft::net::limit_overrun&) {
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
