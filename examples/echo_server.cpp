// echo_server: sends every connection back what it receives, a task per connection.
//
//     echo_server [port [workers]]      (port 7007 by default; 0 picks a free one)
//
// It prints the port it listens on and serves until killed.
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

weft::coro<> echo(weft::net::tcp_stream conn) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        const std::size_t got = co_await conn.read_some(buffer);
        if (got == 0) {
            co_return; // the client closed its side
        }
        co_await conn.write_all(std::string_view(buffer.data(), got));
    }
}

weft::coro<> serve(std::uint16_t port) {
    auto listener = weft::net::tcp_listener::bind("0.0.0.0", port);
    std::printf("echo_server listening on port %u\n", listener.local_port());
    std::fflush(stdout);
    co_await weft::net::serve(std::move(listener), echo);
}

} // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 7007);
    const auto workers = static_cast<std::size_t>(argc > 2 ? std::atoi(argv[2]) : 0);
    weft::run(serve(port), weft::run_options{.workers = workers});
}
