// Tests weft::net::tcp_listener (include/weft/net/tcp_listener.hpp,
// runtime/io/net/tcp_listener.cpp): port 0 picks a free port, IPv6 loopback, a taken port
// fails with EADDRINUSE, a non-numeric address and a call outside a runtime are refused, a
// cancelled accept leaves the listener usable, a listener that outlives its runtime refuses
// to accept and closes without it, and nothing leaks a descriptor.
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::tcp_listener;
using weft::net::tcp_stream;

using weft::testing::two_workers;

bool ipv6_loopback_available() {
    const int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return bound;
}

TEST(TcpListener, PortZeroPicksAFreePortThatAcceptsConnections) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0, 16);
            const std::uint16_t port = listener.local_port();
            EXPECT_GT(port, 0);
            EXPECT_EQ(listener.local_address(), "127.0.0.1:" + std::to_string(port));
            weft::task<tcp_stream> client =
                weft::create_task(tcp_stream::connect("127.0.0.1", port));
            tcp_stream accepted = co_await listener.accept();
            tcp_stream connected = co_await std::move(client);
            EXPECT_EQ(accepted.peer(), "127.0.0.1:" + std::to_string(connected.local_port()));
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(TcpListener, ListensOnIpv6Loopback) {
    if (!ipv6_loopback_available()) {
        GTEST_SKIP() << "this machine has no IPv6 loopback (::1)";
    }
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("::1", 0);
            EXPECT_EQ(listener.local_address().rfind("[::1]:", 0), 0u);
            weft::task<tcp_stream> client =
                weft::create_task(tcp_stream::connect("::1", listener.local_port()));
            tcp_stream accepted = co_await listener.accept();
            tcp_stream connected = co_await std::move(client);
            co_await connected.write_all("six");
            std::array<char, 3> three{};
            co_await accepted.read_exact(three);
            EXPECT_EQ(std::string(three.data(), 3), "six");
        }(),
        two_workers);
}

TEST(TcpListener, ATakenPortFailsWithAddressInUse) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            tcp_listener first = tcp_listener::bind("127.0.0.1", 0);
            try {
                (void)tcp_listener::bind("127.0.0.1", first.local_port());
                ADD_FAILURE() << "bound a taken port";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EADDRINUSE);
                EXPECT_NE(std::string(error.what())
                              .find("weft::net::tcp_listener::bind 127.0.0.1:" +
                                    std::to_string(first.local_port())),
                          std::string::npos)
                    << error.what();
            }
            co_return;
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(TcpListener, RefusesANameAndACallOutsideARuntime) {
    weft::run(
        []() -> weft::coro<> {
            try {
                (void)tcp_listener::bind("localhost", 0);
                ADD_FAILURE() << "bound a name";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EINVAL);
                EXPECT_NE(std::string(error.what()).find("not a numeric"), std::string::npos);
            }
            co_return;
        }(),
        two_workers);
    const std::size_t before = weft::testing::open_descriptors();
    EXPECT_THROW((void)tcp_listener::bind("127.0.0.1", 0), weft::runtime_error);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(TcpListener, ACancelledAcceptLeavesTheListenerUsable) {
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            EXPECT_THROW((void)co_await weft::wait_for(listener.accept(), 20ms),
                         weft::timeout_error);
            weft::task<tcp_stream> client =
                weft::create_task(tcp_stream::connect("127.0.0.1", listener.local_port()));
            tcp_stream accepted = co_await listener.accept();
            EXPECT_TRUE(accepted.is_open());
            (void)co_await std::move(client);
        }(),
        two_workers);
}

// Its runtime (and reactor) gone, a listener refuses accept with weft::runtime_error in a
// later run, even with a connection waiting, and closing it only closes the descriptor.
TEST(TcpListener, AListenerThatOutlivesItsRuntimeRefusesToAcceptAndClosesWithoutIt) {
    const std::size_t before = weft::testing::open_descriptors();
    {
        tcp_listener listener = weft::run(
            []() -> weft::coro<tcp_listener> { co_return tcp_listener::bind("127.0.0.1", 0); }(),
            two_workers);
        ASSERT_TRUE(listener.is_open());
        const std::uint16_t port = listener.local_port();
        weft::run(
            [](tcp_listener& listener, std::uint16_t port) -> weft::coro<> {
                tcp_stream client = co_await tcp_stream::connect("127.0.0.1", port);
                try {
                    (void)co_await listener.accept();
                    ADD_FAILURE() << "accepted on a listener whose runtime has ended";
                } catch (const weft::runtime_error& error) {
                    EXPECT_NE(std::string(error.what()).find("its runtime has ended"),
                              std::string::npos)
                        << error.what();
                }
            }(listener, port),
            two_workers);
        EXPECT_EQ(listener.local_port(), port);
    } // the listener's destructor
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

} // namespace
