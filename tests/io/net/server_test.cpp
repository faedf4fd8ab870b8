// Tests weft::net::serve and start_server (include/weft/net/server.hpp) with the reactor
// underneath (runtime/io/reactor.cpp): a thousand concurrent echo connections with random
// message sizes, a server cancelled with connections open, run ending while a server
// accepts and clients wait, a failing handler reported without ending the server, and no
// descriptor leaked by any of it.
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/net/server_handlers.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::tcp_listener;
using weft::net::tcp_stream;
using weft::testing::echo;

// Raises the soft descriptor limit to at least `wanted`, if the hard limit allows.
void allow_descriptors(rlim_t wanted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

constexpr int connections = 1'000;

// Each client writes a random number of random bytes (up to 256 KiB: more than a socket
// buffer, so writes and reads are partial on both sides) while reading the echo back.
weft::coro<bool> echo_client(std::uint16_t port, std::uint32_t seed) {
    std::minstd_rand random(seed);
    std::string message(random() % (256 * 1024) + 1, '\0');
    for (char& each : message) {
        each = static_cast<char>(random());
    }
    tcp_stream conn = co_await tcp_stream::connect("127.0.0.1", port);
    weft::task<> writer =
        weft::create_task([](tcp_stream& out, const std::string& data) -> weft::coro<> {
            co_await out.write_all(data);
            out.shutdown_write();
        }(conn, message));
    std::string echoed;
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        const std::size_t got = co_await conn.read_some(buffer);
        if (got == 0) {
            break;
        }
        echoed.append(buffer.data(), got);
    }
    co_await writer;
    co_return echoed == message;
}

TEST(Server, EchoesAThousandConcurrentConnections) {
    allow_descriptors(4 * connections);
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0, connections);
            const std::uint16_t port = listener.local_port();
            weft::task<> server = weft::create_task(weft::net::serve(std::move(listener), echo));
            std::vector<weft::task<bool>> clients;
            for (int i = 0; i < connections; ++i) {
                clients.push_back(
                    weft::create_task(echo_client(port, static_cast<std::uint32_t>(i) + 1)));
            }
            int intact = 0;
            for (weft::task<bool>& each : clients) {
                intact += (co_await each) ? 1 : 0;
            }
            EXPECT_EQ(intact, connections);
            server.cancel();
            EXPECT_THROW(co_await server, weft::cancelled_error);
        }(),
        weft::run_options{.workers = 2});
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(Server, CancellingTheServerEndsItsOpenConnections) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::task<> server = weft::create_task(weft::net::serve(std::move(listener), echo));
            std::vector<tcp_stream> idle;
            for (int i = 0; i < 10; ++i) {
                idle.push_back(co_await tcp_stream::connect("127.0.0.1", port));
            }
            co_await idle[0].write_all("ping");
            std::array<char, 4> four{};
            co_await idle[0].read_exact(four);
            server.cancel(); // its ten handlers wait in read_some
            EXPECT_THROW(co_await server, weft::cancelled_error);
            for (tcp_stream& each : idle) {
                std::array<char, 1> byte{};
                EXPECT_EQ(co_await each.read_some(byte), 0u); // the server side closed
            }
        }(),
        weft::run_options{.workers = 2});
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(Server, RunEndsCleanlyWhileAServerAcceptsAndClientsWait) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            (void)weft::create_task(weft::net::serve(std::move(listener), echo));
            for (int i = 0; i < 5; ++i) {
                (void)weft::create_task([](std::uint16_t port) -> weft::coro<> {
                    tcp_stream conn = co_await tcp_stream::connect("127.0.0.1", port);
                    std::array<char, 8> buffer;
                    (void)co_await conn.read_some(buffer); // nobody writes: waits until shutdown
                }(port));
            }
            co_await weft::sleep(20ms);
        }(),
        weft::run_options{.workers = 2});
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(Server, AFailingHandlerIsReportedAndTheServerGoesOn) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            auto picky = [](tcp_stream conn) -> weft::coro<> {
                std::array<char, 1> first{};
                co_await conn.read_exact(first);
                if (first[0] == '!') {
                    throw std::runtime_error("bad request");
                }
                co_await conn.write_all("ok");
            };
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::task<> server = weft::create_task(weft::net::serve(std::move(listener), picky));
            {
                tcp_stream bad = co_await tcp_stream::connect("127.0.0.1", port);
                co_await bad.write_all("!");
                std::array<char, 1> byte{};
                EXPECT_EQ(co_await bad.read_some(byte), 0u); // the failed handler closed it
            }
            tcp_stream good = co_await tcp_stream::connect("127.0.0.1", port);
            co_await good.write_all("?");
            std::array<char, 2> reply{};
            co_await good.read_exact(reply);
            EXPECT_EQ(std::string(reply.data(), 2), "ok");
            server.cancel();
            EXPECT_THROW(co_await server, weft::cancelled_error);
        }(),
        weft::run_options{.workers = 2, .exception_handler = [&reported](std::exception_ptr error) {
                              try {
                                  std::rethrow_exception(error);
                              } catch (const std::runtime_error& failure) {
                                  if (std::string(failure.what()) == "bad request") {
                                      reported.fetch_add(1);
                                  }
                              }
                          }});
    EXPECT_EQ(reported.load(), 1);
}

} // namespace
