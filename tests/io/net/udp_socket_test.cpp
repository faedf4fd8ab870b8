// Tests weft::net::udp_socket (include/weft/net/udp_socket.hpp, runtime/io/net/udp_socket.cpp)
// over loopback: datagrams both ways over IPv4 and IPv6, char and byte buffers, a datagram
// longer than the buffer (truncated, the next one whole), an empty datagram, connected
// sockets and the ECONNREFUSED a closed port answers with, a port in use, a name where a
// numeric address is wanted, a cancelled receive and a receive timeout that leave the socket
// usable, a receive that waits for a sleeping sender in virtual time, and no descriptor leaks.
#include <weft/net/resolve.hpp>
#include <weft/net/udp_socket.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::address;
using weft::net::received_datagram;
using weft::net::udp_socket;

using weft::testing::one_virtual_worker;
using weft::testing::two_workers;

// One receive_from of up to 64 bytes, to start as a task that waits in the reactor.
weft::coro<std::string> receive_text(udp_socket& socket) {
    std::array<char, 64> buffer{};
    const received_datagram got = co_await socket.receive_from(buffer);
    co_return std::string(buffer.data(), got.size);
}

TEST(UdpSocket, DatagramsGoBothWaysOverIpv4) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            udp_socket first = udp_socket::bind("127.0.0.1", 0);
            udp_socket second = udp_socket::bind("127.0.0.1", 0);
            EXPECT_NE(first.local_address().port(), 0);
            co_await first.send_to("ping", second.local_address());
            std::array<char, 64> buffer{};
            const received_datagram got = co_await second.receive_from(buffer);
            EXPECT_EQ(std::string(buffer.data(), got.size), "ping");
            EXPECT_FALSE(got.truncated);
            EXPECT_EQ(got.sender, first.local_address());
            co_await second.send_to("pong", got.sender);
            EXPECT_EQ(co_await receive_text(first), "pong");
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(UdpSocket, DatagramsGoBothWaysOverIpv6) {
    std::string no_ipv6;
    weft::run(
        [](std::string& missing) -> weft::coro<> {
            udp_socket first;
            try {
                first = udp_socket::bind("::1", 0);
            } catch (const std::system_error& error) {
                missing = error.what();
                co_return;
            }
            udp_socket second = udp_socket::bind("[::1]", 0);
            EXPECT_EQ(second.local_address().family(), AF_INET6);
            EXPECT_EQ(second.local_address().to_string().rfind("[::1]:", 0), 0u);
            co_await first.send_to("six", second.local_address());
            std::array<char, 16> buffer{};
            const received_datagram got = co_await second.receive_from(buffer);
            EXPECT_EQ(std::string(buffer.data(), got.size), "six");
            EXPECT_EQ(got.sender, first.local_address());
        }(no_ipv6),
        two_workers);
    if (!no_ipv6.empty()) {
        GTEST_SKIP() << "no IPv6 loopback here: " << no_ipv6;
    }
}

TEST(UdpSocket, ByteBuffersCarryTheSameDatagrams) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket first = udp_socket::bind("127.0.0.1", 0);
            udp_socket second = udp_socket::bind("127.0.0.1", 0);
            const std::array<std::byte, 3> sent{std::byte{0}, std::byte{0xff}, std::byte{7}};
            co_await first.send_to(sent, second.local_address());
            std::array<std::byte, 8> buffer{};
            const received_datagram got = co_await second.receive_from(buffer);
            EXPECT_EQ(got.size, 3u);
            EXPECT_EQ(buffer[1], std::byte{0xff});
            EXPECT_EQ(buffer[2], std::byte{7});
        }(),
        two_workers);
}

TEST(UdpSocket, ALongerDatagramIsTruncatedAndTheNextOneArrivesWhole) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket sender = udp_socket::bind("127.0.0.1", 0);
            udp_socket receiver = udp_socket::bind("127.0.0.1", 0);
            co_await sender.send_to(std::string(100, 'x'), receiver.local_address());
            co_await sender.send_to("short", receiver.local_address());
            std::array<char, 10> buffer{};
            const received_datagram cut = co_await receiver.receive_from(buffer);
            EXPECT_EQ(cut.size, 10u);
            EXPECT_TRUE(cut.truncated);
            EXPECT_EQ(std::string(buffer.data(), cut.size), std::string(10, 'x'));
            const received_datagram whole = co_await receiver.receive_from(buffer);
            EXPECT_EQ(std::string(buffer.data(), whole.size), "short");
            EXPECT_FALSE(whole.truncated);
        }(),
        two_workers);
}

TEST(UdpSocket, AnEmptyDatagramIsReceivedAsSizeZero) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket sender = udp_socket::bind("127.0.0.1", 0);
            udp_socket receiver = udp_socket::bind("127.0.0.1", 0);
            co_await sender.send_to("", receiver.local_address());
            std::array<char, 4> buffer{};
            const received_datagram got = co_await receiver.receive_from(buffer);
            EXPECT_EQ(got.size, 0u);
            EXPECT_FALSE(got.truncated);
        }(),
        two_workers);
}

TEST(UdpSocket, ConnectedSocketsSendAndReceiveWithoutAnAddress) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket first = udp_socket::bind("127.0.0.1", 0);
            udp_socket second = udp_socket::bind("127.0.0.1", 0);
            first.connect(second.local_address());
            second.connect(first.local_address());
            co_await first.send("one");
            std::array<char, 8> buffer{};
            const received_datagram got = co_await second.receive(buffer);
            EXPECT_EQ(std::string(buffer.data(), got.size), "one");
            EXPECT_EQ(got.sender, first.local_address());
            const std::array<std::byte, 1> two{std::byte{2}};
            co_await second.send(two);
            std::array<std::byte, 4> bytes{};
            EXPECT_EQ((co_await first.receive(bytes)).size, 1u);
            EXPECT_EQ(bytes[0], std::byte{2});
        }(),
        two_workers);
}

TEST(UdpSocket, AClosedPortAnswersAConnectedSocketWithConnectionRefused) {
    weft::run(
        []() -> weft::coro<> {
            address gone;
            {
                udp_socket closed_soon = udp_socket::bind("127.0.0.1", 0);
                gone = closed_soon.local_address();
            }
            udp_socket socket = udp_socket::bind("127.0.0.1", 0);
            socket.connect(gone);
            co_await socket.send("anyone?");
            std::array<char, 8> buffer{};
            try {
                (void)co_await weft::wait_for(socket.receive(buffer), 10s);
                ADD_FAILURE() << "a datagram came from a closed port";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ECONNREFUSED);
                EXPECT_NE(std::string(error.what()).find("weft::net::udp_socket::receive_from"),
                          std::string::npos)
                    << error.what();
            }
        }(),
        two_workers);
}

TEST(UdpSocket, APortInUseFailsTheBind) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket first = udp_socket::bind("127.0.0.1", 0);
            try {
                (void)udp_socket::bind(first.local_address());
                ADD_FAILURE() << "two sockets bound one port";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EADDRINUSE);
                EXPECT_NE(std::string(error.what()).find(first.local_address().to_string()),
                          std::string::npos)
                    << error.what();
            }
            co_return;
        }(),
        two_workers);
}

TEST(UdpSocket, ANameMustBeResolvedBeforeBind) {
    weft::run(
        []() -> weft::coro<> {
            try {
                (void)udp_socket::bind("localhost", 0);
                ADD_FAILURE() << "bind took a name";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EINVAL);
                EXPECT_NE(std::string(error.what()).find("localhost"), std::string::npos);
            }
            const std::vector<address> found = co_await weft::net::resolve("localhost", 0);
            udp_socket socket = udp_socket::bind(found.front());
            EXPECT_TRUE(socket.is_open());
        }(),
        two_workers);
}

TEST(UdpSocket, ACancelledReceiveLeavesTheReactorAndTheNextReceiveGetsTheDatagram) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket sender = udp_socket::bind("127.0.0.1", 0);
            udp_socket receiver = udp_socket::bind("127.0.0.1", 0);
            weft::task<std::string> waiting = weft::create_task(receive_text(receiver));
            co_await weft::sleep(10ms); // the receive is waiting in the reactor
            waiting.cancel();
            EXPECT_THROW((void)co_await waiting, weft::cancelled_error);
            co_await sender.send_to("kept", receiver.local_address());
            EXPECT_EQ(co_await receive_text(receiver), "kept");
        }(),
        two_workers);
}

TEST(UdpSocket, AReceiveTimeoutLeavesTheSocketUsable) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket sender = udp_socket::bind("127.0.0.1", 0);
            udp_socket receiver = udp_socket::bind("127.0.0.1", 0);
            std::array<char, 8> buffer{};
            EXPECT_THROW((void)co_await weft::wait_for(receiver.receive_from(buffer), 30ms),
                         weft::timeout_error);
            co_await sender.send_to("late", receiver.local_address());
            EXPECT_EQ(co_await receive_text(receiver), "late");
        }(),
        two_workers);
}

TEST(UdpSocket, AReceiveWaitsForASenderThatSleepsInVirtualTime) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket sender = udp_socket::bind("127.0.0.1", 0);
            udp_socket receiver = udp_socket::bind("127.0.0.1", 0);
            const weft::clock::time_point start = weft::clock::now();
            weft::task<> later = weft::create_task([](udp_socket& out, address to) -> weft::coro<> {
                co_await weft::sleep(10s);
                co_await out.send_to("woke", to);
            }(sender, receiver.local_address()));
            EXPECT_EQ(co_await receive_text(receiver), "woke");
            EXPECT_EQ(weft::clock::now() - start, 10s);
            co_await later;
        }(),
        one_virtual_worker);
}

TEST(UdpSocket, AClosedSocketRefusesOperations) {
    weft::run(
        []() -> weft::coro<> {
            udp_socket socket = udp_socket::bind("127.0.0.1", 0);
            const address self = socket.local_address();
            socket.close();
            EXPECT_THROW(co_await socket.send_to("x", self), weft::invalid_state_error);
        }(),
        two_workers);
}

} // namespace
