// graceful_server: answers each line it receives after 200 ms of pretend work, and on
// SIGTERM or Ctrl-C stops accepting, lets the requests under way finish (up to 10 s),
// then cancels what is left and exits.
//
//     graceful_server [port [workers]]      (port 7008 by default; 0 picks a free one)
//
// Try: `nc localhost 7008`, type a few lines, and `kill -TERM <pid>` while one is pending:
// its answer still arrives, new clients are refused, and a connection the client keeps
// open is closed when the 10 s have passed (its handler, waiting for the next line, is
// cancelled then).
#include <weft/net/server.hpp>
#include <weft/signal.hpp>
#include <weft/weft.hpp>

#include <signal.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

weft::coro<> answer_lines(weft::net::tcp_stream conn) {
    std::array<char, 4096> buffer;
    std::string pending;
    for (;;) {
        const std::size_t got = co_await conn.read_some(buffer);
        if (got == 0) {
            co_return;
        }
        pending.append(buffer.data(), got);
        for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
            const std::string line = pending.substr(0, end);
            pending.erase(0, end + 1);
            co_await weft::sleep(200ms);
            co_await conn.write_all("done: " + line + "\n");
        }
    }
}

// Resumes at the first SIGTERM or SIGINT.
weft::coro<> termination_requested() {
    std::vector<weft::task<>> either;
    either.push_back(weft::create_task(weft::signal_received(SIGTERM)));
    either.push_back(weft::create_task(weft::signal_received(SIGINT)));
    const auto [arrived, other] =
        co_await weft::wait(std::move(either), weft::return_when::first_completed);
    for (const weft::task<>& each : other) {
        each.cancel();
    }
    std::printf("graceful_server: stopping; requests under way have 10 s to finish\n");
    std::fflush(stdout);
}

weft::coro<> serve(std::uint16_t port) {
    auto listener = weft::net::tcp_listener::bind("0.0.0.0", port);
    std::printf("graceful_server listening on port %u\n", listener.local_port());
    std::fflush(stdout);
    co_await weft::net::serve(std::move(listener), answer_lines, termination_requested(), 10s);
    std::printf("graceful_server: stopped\n");
}

} // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 7008);
    const auto workers = static_cast<std::size_t>(argc > 2 ? std::atoi(argv[2]) : 0);
    weft::run(serve(port), weft::run_options{.workers = workers, .signals = {SIGTERM, SIGINT}});
}
