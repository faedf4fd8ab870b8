// Tests weft::net::unix_datagram_socket (include/weft/net/unix_datagram_socket.hpp,
// runtime/io/net/unix_datagram_socket.cpp): datagrams both ways between sockets bound to paths
// and to abstract names, the sender an unbound socket leaves empty, a pair from socketpair,
// connected sockets (which hear only their peer), the errors of a peer that is missing or gone,
// truncation, byte buffers, a send that waits for a full receiver, the socket file bind takes
// over when stale and close removes, paths that are empty or too long, a cancelled receive and
// a receive timeout that leave the socket usable, a receive that waits for a sleeping sender in
// virtual time, a closed socket, no leaks.
#include <weft/net/unix_datagram_socket.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "io/net/unix_socket_files.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::received_unix_datagram;
using weft::net::unix_datagram_socket;
namespace fs = std::filesystem;

using weft::testing::one_virtual_worker;
using weft::testing::two_workers;

class UnixDatagramSocket : public weft::testing::unix_socket_directory {};

// A datagram's text and its sender.
using text_from = std::pair<std::string, std::string>;

// One receive_from of up to 64 bytes, as text, with its sender.
weft::coro<text_from> receive_text(unix_datagram_socket& socket) {
    std::array<char, 64> buffer{};
    const received_unix_datagram got = co_await socket.receive_from(buffer);
    co_return std::pair{std::string(buffer.data(), got.size), got.sender};
}

TEST_F(UnixDatagramSocket, DatagramsGoBothWaysBetweenPaths) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        [](std::string first_path, std::string second_path) -> weft::coro<> {
            unix_datagram_socket first = unix_datagram_socket::bind(first_path);
            unix_datagram_socket second = unix_datagram_socket::bind(second_path);
            EXPECT_EQ(first.local_path(), first_path);
            EXPECT_TRUE(fs::is_socket(first_path));
            co_await first.send_to("ping", second_path);
            std::array<char, 64> buffer{};
            const received_unix_datagram got = co_await second.receive_from(buffer);
            EXPECT_EQ(std::string(buffer.data(), got.size), "ping");
            EXPECT_FALSE(got.truncated);
            EXPECT_EQ(got.sender, first_path);
            co_await second.send_to("pong", got.sender);
            EXPECT_EQ(co_await receive_text(first), text_from("pong", second_path));
        }(socket_path("first"), socket_path("second")),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
    EXPECT_FALSE(fs::exists(socket_path("first"))); // close removed the socket files
    EXPECT_FALSE(fs::exists(socket_path("second")));
}

TEST_F(UnixDatagramSocket, AbstractNamesNeedNoFile) {
    weft::run(
        [](std::string first_name, std::string second_name) -> weft::coro<> {
            unix_datagram_socket first = unix_datagram_socket::bind(first_name);
            unix_datagram_socket second = unix_datagram_socket::bind(second_name);
            EXPECT_EQ(first.local_path(), first_name);
            const std::array<std::byte, 3> sent{std::byte{0}, std::byte{0xff}, std::byte{7}};
            co_await first.send_to(sent, second_name);
            std::array<std::byte, 8> bytes{};
            const received_unix_datagram got = co_await second.receive_from(bytes);
            EXPECT_EQ(got.size, 3u);
            EXPECT_EQ(bytes[1], std::byte{0xff});
            EXPECT_EQ(got.sender, first_name);
            // The same name written with a leading NUL reaches the same socket.
            co_await second.send_to("nul", std::string(1, '\0') + first_name.substr(1));
            EXPECT_EQ((co_await receive_text(first)).first, "nul");
        }(weft::testing::unique_abstract_name("first"), weft::testing::unique_abstract_name(
                                                            "second")),
        two_workers);
}

TEST_F(UnixDatagramSocket, AnUnboundSenderIsEmptyAndCannotBeAnswered) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_datagram_socket receiver = unix_datagram_socket::bind(path);
            unix_datagram_socket sender = unix_datagram_socket::unbound();
            EXPECT_EQ(sender.local_path(), "");
            co_await sender.send_to("anonymous", path);
            EXPECT_EQ(co_await receive_text(receiver), text_from("anonymous", ""));
            EXPECT_THROW(co_await receiver.send_to("reply", ""), weft::invalid_argument);
        }(socket_path("receiver")),
        two_workers);
}

TEST_F(UnixDatagramSocket, APairTalksBothWaysWithoutPaths) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            auto [left, right] = unix_datagram_socket::pair();
            co_await left.send("one");
            std::array<char, 8> buffer{};
            const received_unix_datagram got = co_await right.receive(buffer);
            EXPECT_EQ(std::string(buffer.data(), got.size), "one");
            EXPECT_EQ(got.sender, "");
            const std::array<std::byte, 1> two{std::byte{2}};
            co_await right.send(two);
            std::array<std::byte, 4> bytes{};
            EXPECT_EQ((co_await left.receive(bytes)).size, 1u);
            EXPECT_EQ(bytes[0], std::byte{2});
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST_F(UnixDatagramSocket, ConnectedSocketsSendWithoutAPathAndHearOnlyTheirPeer) {
    weft::run(
        [](std::string server_path, std::string other_path) -> weft::coro<> {
            unix_datagram_socket server = unix_datagram_socket::bind(server_path);
            unix_datagram_socket other = unix_datagram_socket::bind(other_path);
            unix_datagram_socket client = unix_datagram_socket::unbound();
            client.connect(server_path);
            co_await client.send("hello");
            EXPECT_EQ((co_await receive_text(server)).first, "hello");
            server.connect(other_path); // now the server hears only `other`
            try { // a socket connected elsewhere takes no datagram from another
                co_await client.send("refused");
                ADD_FAILURE() << "sent to a socket connected to another";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EPERM) << error.what();
            }
            co_await other.send_to("heard", server_path);
            EXPECT_EQ(co_await receive_text(server), text_from("heard", other_path));
        }(socket_path("server"), socket_path("other")),
        two_workers);
}

TEST_F(UnixDatagramSocket, ConnectingWhereNothingIsBoundFailsByName) {
    weft::run(
        [](std::string missing, std::string stale) -> weft::coro<> {
            unix_datagram_socket socket = unix_datagram_socket::unbound();
            try {
                socket.connect(missing);
                ADD_FAILURE() << "connected to a path that does not exist";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ENOENT);
                EXPECT_NE(std::string(error.what()).find(missing), std::string::npos)
                    << error.what();
                EXPECT_NE(std::string(error.what()).find("unix_datagram_socket::connect"),
                          std::string::npos)
                    << error.what();
            }
            {
                unix_datagram_socket gone = unix_datagram_socket::bind(stale);
                socket.connect(stale);
                gone.close();
            }
            try { // the peer it was connected to is gone
                co_await socket.send("anyone?");
                ADD_FAILURE() << "sent to a closed peer";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ECONNREFUSED) << error.what();
            }
            try {
                co_await socket.send_to("anyone?", missing);
                ADD_FAILURE() << "sent to a path that does not exist";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ENOENT);
                EXPECT_NE(std::string(error.what()).find("send_to to " + missing),
                          std::string::npos)
                    << error.what();
            }
        }(socket_path("missing"), socket_path("stale")),
        two_workers);
}

TEST_F(UnixDatagramSocket, ALongerDatagramIsTruncatedAndTheNextOneArrivesWhole) {
    weft::run(
        []() -> weft::coro<> {
            auto [sender, receiver] = unix_datagram_socket::pair();
            co_await sender.send(std::string(100, 'x'));
            co_await sender.send("short");
            co_await sender.send("");
            std::array<char, 10> buffer{};
            const received_unix_datagram cut = co_await receiver.receive(buffer);
            EXPECT_EQ(cut.size, 10u);
            EXPECT_TRUE(cut.truncated);
            const received_unix_datagram whole = co_await receiver.receive(buffer);
            EXPECT_EQ(std::string(buffer.data(), whole.size), "short");
            EXPECT_FALSE(whole.truncated);
            EXPECT_EQ((co_await receiver.receive(buffer)).size, 0u); // an empty datagram
        }(),
        two_workers);
}

TEST_F(UnixDatagramSocket, ASendToAFullReceiverWaitsUntilItTakesDatagrams) {
    weft::run(
        []() -> weft::coro<> {
            auto [sender, receiver] = unix_datagram_socket::pair();
            constexpr int count = 2000; // far more than a receive queue holds
            std::atomic<int> sent{0};
            weft::task<> sending = weft::create_task(
                [](unix_datagram_socket& out, std::atomic<int>& sent) -> weft::coro<> {
                    for (int i = 0; i < count; ++i) {
                        co_await out.send(std::to_string(i));
                        sent.fetch_add(1);
                    }
                }(sender, sent));
            while (sent.load() < 5) {
                co_await weft::sleep(1ms);
            }
            co_await weft::sleep(20ms); // the sender fills the queue, then waits
            EXPECT_LT(sent.load(), count);
            for (int i = 0; i < count; ++i) {
                EXPECT_EQ((co_await receive_text(receiver)).first, std::to_string(i));
            }
            co_await sending;
        }(),
        two_workers);
}

TEST_F(UnixDatagramSocket, BindTakesOverAStaleSocketFileButNotALiveOne) {
    weft::testing::leave_stale_socket_file(socket_path("stale"), SOCK_DGRAM);
    ASSERT_TRUE(fs::is_socket(socket_path("stale")));
    weft::run(
        [](std::string stale) -> weft::coro<> {
            unix_datagram_socket socket = unix_datagram_socket::bind(stale);
            auto [sender, unused] = unix_datagram_socket::pair();
            co_await sender.send_to("here", stale);
            EXPECT_EQ((co_await receive_text(socket)).first, "here");
            try {
                (void)unix_datagram_socket::bind(stale);
                ADD_FAILURE() << "took the path of a live socket";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EADDRINUSE);
                EXPECT_NE(std::string(error.what()).find("unix_datagram_socket::bind " + stale),
                          std::string::npos)
                    << error.what();
            }
        }(socket_path("stale")),
        two_workers);
    EXPECT_FALSE(fs::exists(socket_path("stale")));
}

TEST_F(UnixDatagramSocket, EmptyAndTooLongPathsAreRefusedSayingTheLimit) {
    weft::run(
        [](std::string directory) -> weft::coro<> {
            EXPECT_THROW((void)unix_datagram_socket::bind(""), weft::invalid_argument);
            const std::string too_long = directory + "/" + std::string(120, 'p');
            try {
                (void)unix_datagram_socket::bind(too_long);
                ADD_FAILURE() << "bound a path longer than sockaddr_un holds";
            } catch (const weft::invalid_argument& error) {
                EXPECT_NE(std::string(error.what()).find("at most 107 bytes"), std::string::npos)
                    << error.what();
                EXPECT_NE(std::string(error.what()).find("unix_datagram_socket::bind"),
                          std::string::npos)
                    << error.what();
            }
            unix_datagram_socket socket = unix_datagram_socket::unbound();
            EXPECT_THROW(socket.connect(too_long), weft::invalid_argument);
            EXPECT_THROW(co_await socket.send_to("x", "@" + std::string(107, 'a')),
                         weft::invalid_argument);
            // 107 bytes is the longest that fits.
            unix_datagram_socket longest = unix_datagram_socket::bind("@" + std::string(106, 'a'));
            EXPECT_TRUE(longest.is_open());
        }(directory_.string()),
        two_workers);
}

TEST_F(UnixDatagramSocket, ACancelledReceiveAndAReceiveTimeoutLeaveTheSocketUsable) {
    weft::run(
        []() -> weft::coro<> {
            auto [sender, receiver] = unix_datagram_socket::pair();
            auto waiting = weft::create_task(receive_text(receiver));
            co_await weft::sleep(10ms); // the receive is waiting in the reactor
            waiting.cancel();
            EXPECT_THROW((void)co_await waiting, weft::cancelled_error);
            std::array<char, 8> buffer{};
            EXPECT_THROW((void)co_await weft::wait_for(receiver.receive(buffer), 30ms),
                         weft::timeout_error);
            co_await sender.send("kept");
            EXPECT_EQ((co_await receive_text(receiver)).first, "kept");
        }(),
        two_workers);
}

TEST_F(UnixDatagramSocket, AReceiveWaitsForASenderThatSleepsInVirtualTime) {
    weft::run(
        []() -> weft::coro<> {
            auto [sender, receiver] = unix_datagram_socket::pair();
            const weft::clock::time_point start = weft::clock::now();
            weft::task<> later = weft::create_task([](unix_datagram_socket& out) -> weft::coro<> {
                co_await weft::sleep(10s);
                co_await out.send("woke");
            }(sender));
            EXPECT_EQ((co_await receive_text(receiver)).first, "woke");
            EXPECT_EQ(weft::clock::now() - start, 10s);
            std::array<char, 8> buffer{};
            EXPECT_THROW((void)co_await weft::wait_for(receiver.receive(buffer), 5s),
                         weft::timeout_error);
            EXPECT_EQ(weft::clock::now() - start, 15s);
            co_await later;
        }(),
        one_virtual_worker);
}

TEST_F(UnixDatagramSocket, AClosedSocketRefusesOperations) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_datagram_socket socket = unix_datagram_socket::bind(path);
            socket.close();
            EXPECT_FALSE(fs::exists(path));
            EXPECT_THROW(co_await socket.send_to("x", path), weft::invalid_state_error);
            std::array<char, 4> buffer{};
            EXPECT_THROW((void)co_await socket.receive(buffer), weft::invalid_state_error);
            EXPECT_THROW(socket.connect(path), weft::invalid_state_error);
        }(socket_path("s")),
        two_workers);
}

} // namespace
