// Tests the graceful shutdown of weft::net::serve and start_server (include/weft/net/
// server.hpp): on SIGTERM sent to the process with requests in flight, every request
// accepted before the signal is answered in full (responses larger than a socket buffer,
// read slowly, so writes are under way when the signal lands), new clients are refused,
// and the server returns; handlers still running when the grace ends are cancelled; a
// cancelled server and a negative grace behave as documented.
#include <weft/net/server.hpp>
#include <weft/signal.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "io/net/server_handlers.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::tcp_listener;
using weft::net::tcp_stream;
using weft::testing::stuck_handler;

constexpr std::size_t response_size = 1 << 20;

char pattern_at(std::size_t index, char id) {
    return static_cast<char>('a' + (index + static_cast<unsigned char>(id)) % 26);
}

// Reads one byte naming the request, works on it for `work`, then writes a response larger
// than a socket buffer; then serves the next request, until the client closes.
struct slow_server {
    std::atomic<int>& requests_read;
    std::chrono::milliseconds work;

    weft::coro<> operator()(tcp_stream conn) const {
        std::array<char, 1> id{};
        for (;;) {
            if (co_await conn.read_some(id) == 0) {
                co_return;
            }
            requests_read.fetch_add(1);
            co_await weft::sleep(work);
            std::string response(response_size, '\0');
            for (std::size_t i = 0; i < response.size(); ++i) {
                response[i] = pattern_at(i, id[0]);
            }
            co_await conn.write_all(response);
        }
    }
};

// Sends one request, reads its whole response slowly and checks every byte, then closes
// its side and expects the server to close too. True if all of that held.
weft::coro<bool> client(std::uint16_t port, char id) {
    tcp_stream conn = co_await tcp_stream::connect("127.0.0.1", port);
    co_await conn.write_all(std::string_view(&id, 1));
    std::string response(response_size, '\0');
    std::size_t got = 0;
    while (got < response.size()) {
        co_await weft::sleep(2ms); // slower than the server: its write waits for us
        const std::size_t chunk = std::min<std::size_t>(64 * 1024, response.size() - got);
        const std::size_t read =
            co_await conn.read_some(std::span<char>(response.data() + got, chunk));
        if (read == 0) {
            co_return false; // half-written
        }
        got += read;
    }
    for (std::size_t i = 0; i < response.size(); ++i) {
        if (response[i] != pattern_at(i, id)) {
            co_return false;
        }
    }
    conn.shutdown_write();
    std::array<char, 16> rest{};
    co_return co_await conn.read_some(rest) == 0;
}

weft::run_options watching_sigterm() {
    weft::run_options options;
    options.workers = 4;
    options.signals = {SIGTERM};
    return options;
}

// Opens `count` connections to `port` and waits until the server's handler runs for each.
weft::coro<std::vector<tcp_stream>> open_started(std::uint16_t port, int count,
                                                 std::atomic<int>& started) {
    std::vector<tcp_stream> open;
    for (int i = 0; i < count; ++i) {
        open.push_back(co_await tcp_stream::connect("127.0.0.1", port));
    }
    while (started.load() < count) {
        co_await weft::sleep(1ms);
    }
    co_return open;
}

TEST(GracefulServe, SigtermLosesNoAcceptedRequestAndHalfWritesNone) {
    constexpr int clients = 24;
    std::atomic<int> requests_read{0};
    std::atomic<int> answered{0};
    weft::run(
        [](std::atomic<int>& requests_read, std::atomic<int>& answered) -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::task<> server = weft::create_task(
                weft::net::serve(std::move(listener), slow_server{requests_read, 100ms},
                                 weft::signal_received(SIGTERM), 30s));
            std::vector<weft::task<bool>> open;
            for (int i = 0; i < clients; ++i) {
                open.push_back(weft::create_task(client(port, static_cast<char>(i))));
            }
            while (requests_read.load() < clients) {
                co_await weft::sleep(1ms);
            }
            EXPECT_EQ(kill(getpid(), SIGTERM), 0);
            const auto signalled = std::chrono::steady_clock::now();
            for (const weft::task<bool>& each : open) {
                if (co_await each) {
                    answered.fetch_add(1);
                }
            }
            co_await server; // ends once the handlers have, well inside the grace
            EXPECT_LT(std::chrono::steady_clock::now() - signalled, 20s);
            EXPECT_THROW(co_await tcp_stream::connect("127.0.0.1", port), std::system_error);
        }(requests_read, answered),
        watching_sigterm());
    EXPECT_EQ(requests_read.load(), clients);
    EXPECT_EQ(answered.load(), clients);
}

using weft::testing::wait_for_event;

TEST(GracefulServe, HandlersStillRunningWhenTheGraceEndsAreCancelled) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& cancelled) -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::event stop;
            weft::task<> server = weft::create_task(
                weft::net::serve(std::move(listener), stuck_handler{started, cancelled},
                                 wait_for_event(stop), 100ms));
            std::vector<tcp_stream> open = co_await open_started(port, 8, started);
            const auto stopped = std::chrono::steady_clock::now();
            stop.set();
            co_await server;
            const auto took = std::chrono::steady_clock::now() - stopped;
            EXPECT_GE(took, 100ms);
            EXPECT_LT(took, 10s);
            std::array<char, 1> byte{};
            for (tcp_stream& each : open) {
                EXPECT_EQ(co_await each.read_some(byte), 0u); // closed by the server
            }
        }(started, cancelled),
        weft::run_options{.workers = 2});
    EXPECT_EQ(cancelled.load(), 8);
}

TEST(GracefulServe, CancelledServerCancelsItsConnectionsWithoutGrace) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& cancelled) -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::event never;
            weft::task<> server = weft::create_task(weft::net::serve(
                std::move(listener), stuck_handler{started, cancelled}, wait_for_event(never), 1h));
            std::vector<tcp_stream> open = co_await open_started(port, 4, started);
            const auto before = std::chrono::steady_clock::now();
            server.cancel();
            EXPECT_THROW(co_await server, weft::cancelled_error);
            EXPECT_LT(std::chrono::steady_clock::now() - before, 10s); // not the hour
            EXPECT_EQ(cancelled.load(), 4);
        }(started, cancelled),
        weft::run_options{.workers = 2});
}

TEST(GracefulServe, StopFailureIsRethrownAfterTheShutdown) {
    weft::run(
        []() -> weft::coro<> {
            auto failing = []() -> weft::coro<> {
                co_await weft::sleep(1ms);
                throw std::runtime_error("stop failed");
            };
            std::atomic<int> started{0};
            std::atomic<int> cancelled{0};
            EXPECT_THROW(co_await weft::net::start_server(stuck_handler{started, cancelled},
                                                          "127.0.0.1", 0, failing(), 1s),
                         std::runtime_error);
        }(),
        weft::run_options{.workers = 1});
}

TEST(GracefulServe, NegativeGraceIsRefused) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> started{0};
            std::atomic<int> cancelled{0};
            weft::event never;
            EXPECT_THROW(co_await weft::net::start_server(stuck_handler{started, cancelled},
                                                          "127.0.0.1", 0, wait_for_event(never),
                                                          -1ms),
                         weft::invalid_argument);
        }(),
        weft::run_options{.workers = 1});
}

} // namespace
