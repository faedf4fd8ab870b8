// Tests weft::net::serve and start_unix_server (include/weft/net/server.hpp) over Unix domain
// streams: an echo server at a path serving many concurrent clients until cancelled, which then
// removes its socket file; a graceful stop over an abstract name that lets the request under
// way finish, refuses new clients and ends; handlers cancelled when the grace ends (in virtual
// time); a bad path refused by name; no descriptor leaked.
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "io/net/server_handlers.hpp"
#include "io/net/unix_socket_files.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::unix_listener;
using weft::net::unix_stream;
using weft::testing::echo;
using weft::testing::one_virtual_worker;
using weft::testing::stuck_handler;
namespace fs = std::filesystem;

// Sends `message`, half-closes, and returns all the server sent back.
weft::coro<std::string> echo_client(std::string path, std::string message) {
    unix_stream conn = co_await unix_stream::connect(path);
    co_await conn.write_all(message);
    conn.shutdown_write();
    std::string echoed;
    std::array<char, 4096> buffer;
    while (const std::size_t got = co_await conn.read_some(buffer)) {
        echoed.append(buffer.data(), got);
    }
    co_return echoed;
}

// Waits until something listens at `path` (a server task binds it when it first runs).
weft::coro<> until_listening(const std::string& path) {
    for (;;) {
        try {
            (void)co_await unix_stream::connect(path);
            co_return;
        } catch (const std::system_error&) { // not yet bound: try again shortly
        }
        co_await weft::sleep(1ms);
    }
}

TEST(UnixServer, EchoesConcurrentClientsUntilCancelledAndRemovesItsFile) {
    const std::string path =
        (fs::temp_directory_path() / ("weft-unix-server-" + std::to_string(::getpid()))).string();
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        [](std::string path) -> weft::coro<> {
            weft::task<> server = weft::create_task(weft::net::start_unix_server(echo, path));
            co_await until_listening(path);
            EXPECT_TRUE(fs::is_socket(path));
            std::vector<weft::task<std::string>> clients;
            for (int i = 0; i < 64; ++i) {
                // More than a socket buffer for some, so the echo waits for the client.
                clients.push_back(weft::create_task(
                    echo_client(path, std::string(1 + i * 4096, static_cast<char>('a' + i % 26)))));
            }
            for (int i = 0; i < 64; ++i) {
                EXPECT_EQ(co_await clients[i],
                          std::string(1 + i * 4096, static_cast<char>('a' + i % 26)));
            }
            server.cancel();
            EXPECT_THROW(co_await server, weft::cancelled_error);
            EXPECT_FALSE(fs::exists(path));
        }(path),
        weft::run_options{.workers = 2});
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

using weft::testing::wait_for_event;

// Reads a request of one byte, signals that it has it, works on it for 50 ms, answers.
struct slow_echo {
    std::atomic<int>& requests;

    weft::coro<> operator()(unix_stream conn) const {
        std::array<char, 1> request{};
        while (co_await conn.read_some(request) == 1) {
            requests.fetch_add(1);
            co_await weft::sleep(50ms);
            co_await conn.write_all(std::string_view(request.data(), 1));
        }
    }
};

TEST(UnixServer, AGracefulStopOverAnAbstractNameFinishesTheRequestUnderWay) {
    std::atomic<int> requests{0};
    weft::run(
        [](std::atomic<int>& requests) -> weft::coro<> {
            const std::string name = weft::testing::unique_abstract_name("graceful");
            weft::event stop;
            weft::task<> server = weft::create_task(
                weft::net::start_unix_server(slow_echo{requests}, name, wait_for_event(stop), 10s));
            co_await until_listening(name);
            unix_stream conn = co_await unix_stream::connect(name);
            co_await conn.write_all("q");
            while (requests.load() == 0) {
                co_await weft::sleep(1ms);
            }
            stop.set(); // while the handler works on "q"
            std::array<char, 1> answer{};
            co_await conn.read_exact(answer);
            EXPECT_EQ(answer[0], 'q');
            conn.close(); // the handler ends, and with it the server
            co_await server;
            try {
                (void)co_await unix_stream::connect(name);
                ADD_FAILURE() << "connected to a stopped server";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ECONNREFUSED) << error.what();
            }
        }(requests),
        weft::run_options{.workers = 2});
}

TEST(UnixServer, HandlersStillRunningWhenTheGraceEndsAreCancelledInVirtualTime) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& cancelled) -> weft::coro<> {
            const std::string name = weft::testing::unique_abstract_name("grace");
            unix_listener listener = unix_listener::bind(name);
            weft::event stop;
            weft::task<> server = weft::create_task(weft::net::serve(
                std::move(listener), stuck_handler{started, cancelled}, wait_for_event(stop), 5s));
            std::vector<unix_stream> open;
            for (int i = 0; i < 4; ++i) {
                open.push_back(co_await unix_stream::connect(name));
            }
            while (started.load() < 4) {
                co_await weft::sleep(1ms);
            }
            const weft::clock::time_point stopped = weft::clock::now();
            stop.set();
            co_await server;
            EXPECT_EQ(weft::clock::now() - stopped, 5s);
            std::array<char, 1> byte{};
            for (unix_stream& each : open) {
                EXPECT_EQ(co_await each.read_some(byte), 0u); // closed by the server
            }
        }(started, cancelled),
        one_virtual_worker);
    EXPECT_EQ(cancelled.load(), 4);
}

TEST(UnixServer, ABadPathIsRefusedByName) {
    weft::run(
        []() -> weft::coro<> {
            EXPECT_THROW(co_await weft::net::start_unix_server(echo, ""), weft::invalid_argument);
            weft::event never;
            EXPECT_THROW(co_await weft::net::start_unix_server(echo, "@" + std::string(200, 'x'),
                                                               wait_for_event(never), 1s),
                         weft::invalid_argument);
        }(),
        weft::run_options{.workers = 1});
}

} // namespace
