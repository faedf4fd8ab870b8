// Tests weft::net::resolve and weft::net::address (include/weft/net/resolve.hpp,
// include/weft/net/address.hpp, runtime/io/net/resolve.cpp, runtime/io/net/address.cpp):
// numeric addresses without a lookup, "localhost" through getaddrinfo on the blocking pool,
// a name that cannot resolve (the .invalid domain) failing with resolve_error, a caller that
// leaves a lookup stuck behind a busy pool at once by cancellation and by timeout, and the
// names that tcp_listener::bind, start_server and tcp_stream::connect take through resolve.
#include <weft/net/resolve.hpp>
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::address;
using weft::net::resolve;

using weft::testing::two_workers;

bool is_loopback(const address& where) {
    return where.host() == "127.0.0.1" || where.host() == "::1";
}

TEST(Address, ParsesNumericAddressesOnly) {
    const std::optional<address> ipv4 = address::parse("127.0.0.1", 80);
    ASSERT_TRUE(ipv4);
    EXPECT_EQ(ipv4->family(), AF_INET);
    EXPECT_EQ(ipv4->port(), 80);
    EXPECT_EQ(ipv4->host(), "127.0.0.1");
    EXPECT_EQ(ipv4->to_string(), "127.0.0.1:80");
    const std::optional<address> ipv6 = address::parse("[::1]", 8080);
    ASSERT_TRUE(ipv6);
    EXPECT_EQ(ipv6->family(), AF_INET6);
    EXPECT_EQ(ipv6->to_string(), "[::1]:8080");
    EXPECT_EQ(*ipv6, *address::parse("::1", 8080));
    EXPECT_FALSE(*ipv6 == *address::parse("::1", 8081));
    EXPECT_FALSE(address::parse("localhost", 80));
    EXPECT_FALSE(address::parse("", 80));
    EXPECT_EQ(address().family(), 0);
}

TEST(Resolve, ANumericAddressNeedsNoLookup) {
    weft::run(
        []() -> weft::coro<> {
            const std::vector<address> found = co_await resolve("::1", 53);
            EXPECT_EQ(found.size(), 1u);
            EXPECT_EQ(found.at(0).to_string(), "[::1]:53");
        }(),
        two_workers);
}

TEST(Resolve, LocalhostResolvesToLoopbackAddressesEachOnce) {
    weft::run(
        []() -> weft::coro<> {
            const std::vector<address> found = co_await resolve("localhost", 8080);
            EXPECT_FALSE(found.empty());
            for (std::size_t i = 0; i < found.size(); ++i) {
                EXPECT_TRUE(is_loopback(found[i])) << found[i].to_string();
                EXPECT_EQ(found[i].port(), 8080);
                for (std::size_t j = 0; j < i; ++j) {
                    EXPECT_FALSE(found[i] == found[j]) << found[i].to_string() << " twice";
                }
            }
        }(),
        two_workers);
}

TEST(Resolve, ANameInTheInvalidDomainFailsWithResolveError) {
    bool resolver_silent = false;
    weft::run(
        [](bool& silent) -> weft::coro<> {
            try {
                // .invalid never resolves (RFC 6761); the bound only keeps a resolver that
                // does not answer from hanging the test.
                (void)co_await weft::wait_for(resolve("no.such.host.invalid", 80), 20s);
                ADD_FAILURE() << "an .invalid name resolved";
            } catch (const weft::timeout_error&) {
                silent = true;
            } catch (const weft::net::resolve_error& error) {
                EXPECT_EQ(error.host(), "no.such.host.invalid");
                const std::string what = error.what();
                EXPECT_EQ(what.rfind("weft::net::resolve no.such.host.invalid: ", 0), 0u) << what;
                EXPECT_GT(what.size(),
                          std::string("weft::net::resolve no.such.host.invalid: ").size());
            }
        }(resolver_silent),
        two_workers);
    if (resolver_silent) {
        GTEST_SKIP() << "the system resolver did not answer within 20 s";
    }
}

// A pool of one thread, held by a blocking call until `release` is set: a lookup queued
// behind it cannot start, so only the caller's side can end the wait.
weft::coro<> with_busy_pool(weft::coro<> body) {
    std::atomic<bool> holding{false};
    std::atomic<bool> release{false};
    auto hold_the_pool = [&holding, &release] {
        holding.store(true);
        while (!release.load()) { // seq_cst: see the store below
            std::this_thread::sleep_for(1ms);
        }
    };
    weft::task<> holder = weft::create_task(
        [](auto hold) -> weft::coro<> { co_await weft::to_thread(hold); }(hold_the_pool));
    // The holder's call runs on the pool's one thread before the body's lookup is made. No
    // fixed sleep is enough: the worker that took the holder may not run it for a while.
    while (!holding.load() && !holder.done()) {
        co_await weft::sleep(1ms);
    }
    std::exception_ptr failure;
    try {
        co_await std::move(body);
    } catch (...) {
        failure = std::current_exception();
    }
    // seq_cst (the default) is more than enough: the flag hands over nothing but itself.
    release.store(true);
    co_await holder; // `release` lives in this frame: wait for the pool thread to stop reading it
    if (failure) {
        std::rethrow_exception(failure);
    }
}

const weft::run_options one_blocking_thread{.workers = 2, .max_blocking_threads = 1};

TEST(Resolve, ACancelledLookupLeavesAtOnce) {
    weft::run(with_busy_pool([]() -> weft::coro<> {
                  weft::task<std::vector<address>> lookup =
                      weft::create_task(resolve("localhost", 80));
                  co_await weft::sleep(10ms);
                  EXPECT_FALSE(lookup.done());
                  const auto start = std::chrono::steady_clock::now();
                  lookup.cancel();
                  EXPECT_THROW((void)co_await lookup, weft::cancelled_error);
                  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
              }()),
              one_blocking_thread);
}

TEST(Resolve, ALookupTimesOutWhileThePoolIsBusy) {
    weft::run(with_busy_pool([]() -> weft::coro<> {
                  EXPECT_THROW((void)co_await weft::wait_for(resolve("localhost", 80), 30ms),
                               weft::timeout_error);
              }()),
              one_blocking_thread);
}

weft::coro<> echo_once(weft::net::tcp_stream conn) {
    std::array<char, 1> one{};
    co_await conn.read_exact(one);
    co_await conn.write_all(std::string_view(one.data(), 1));
}

TEST(Resolve, ListenersAndServersBindAName) {
    weft::run(
        []() -> weft::coro<> {
            const std::vector<address> found = co_await resolve("localhost", 0);
            weft::net::tcp_listener listener = weft::net::tcp_listener::bind(found);
            EXPECT_TRUE(is_loopback(*address::parse(
                listener.local_address().substr(0, listener.local_address().rfind(':')), 0)))
                << listener.local_address();
            const std::uint16_t port = listener.local_port();
            listener.close();
            // The port just freed, served by name and reached by name. The server resolves
            // its name on the blocking pool before it binds, which takes no fixed time: the
            // client tries again while the port refuses connections.
            weft::task<> server =
                weft::create_task(weft::net::start_server(echo_once, "localhost", port));
            const auto give_up = std::chrono::steady_clock::now() + 60s;
            std::optional<weft::net::tcp_stream> conn;
            for (;;) {
                try {
                    conn.emplace(co_await weft::net::tcp_stream::connect("localhost", port));
                    break;
                } catch (const std::system_error&) { // not listening yet
                    if (std::chrono::steady_clock::now() > give_up) {
                        throw;
                    }
                }
                co_await weft::sleep(1ms);
            }
            co_await conn->write_all("r");
            std::array<char, 1> back{};
            co_await conn->read_exact(back);
            EXPECT_EQ(back[0], 'r');
            server.cancel();
            EXPECT_THROW(co_await server, weft::cancelled_error);
        }(),
        two_workers);
}

TEST(Resolve, ConnectToAnUnresolvableNameThrowsResolveError) {
    bool resolver_silent = false;
    weft::run(
        [](bool& silent) -> weft::coro<> {
            try {
                (void)co_await weft::wait_for(
                    weft::net::tcp_stream::connect("no.such.host.invalid", 80), 20s);
                ADD_FAILURE() << "connected to an .invalid name";
            } catch (const weft::timeout_error&) {
                silent = true;
            } catch (const weft::net::resolve_error& error) {
                EXPECT_EQ(error.code().category(), weft::net::resolver_category());
            }
        }(resolver_silent),
        two_workers);
    if (resolver_silent) {
        GTEST_SKIP() << "the system resolver did not answer within 20 s";
    }
}

} // namespace
