// echo_client: sends lines to an echo server and checks that each comes back.
//
//     echo_client [host [port [messages]]]    (localhost, 7007 and 5 by default)
//
// It connects (resolving the name on weft's blocking pool), sends each message, reads the
// echo with a one-second timeout, prints it, and exits with status 1 on any mismatch.
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

weft::coro<int> talk(std::string host, std::uint16_t port, int messages) {
    weft::net::tcp_stream conn = co_await weft::net::tcp_stream::connect(host, port);
    conn.set_nodelay();
    std::printf("connected to %s\n", conn.peer().c_str());
    for (int i = 1; i <= messages; ++i) {
        const std::string line = "message " + std::to_string(i) + " of " + std::to_string(messages);
        co_await conn.write_all(line);
        std::string echoed(line.size(), '\0');
        co_await weft::wait_for(conn.read_exact(echoed), std::chrono::seconds(1));
        std::printf("echoed: %s\n", echoed.c_str());
        if (echoed != line) {
            co_return 1;
        }
    }
    co_return 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::string host = argc > 1 ? argv[1] : "localhost";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 7007);
    const int messages = argc > 3 ? std::atoi(argv[3]) : 5;
    return weft::run(talk(host, port, messages));
}
