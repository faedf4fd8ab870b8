// Tests weft::net::tcp_stream (include/weft/net/tcp_stream.hpp, runtime/io/net/tcp_stream.cpp,
// runtime/io/net/socket_ops.cpp) over loopback: connect by address and by name, reads and
// writes that need many system calls, the end of the stream, read_exact's incomplete_read,
// half-close, a peer's reset, a refused connection, a read timeout through wait_for after
// which the stream still works, cancellation of a blocked read, sockets in virtual time at 1
// and 2 workers, no descriptor leaks, and a stream that outlives its runtime.
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "io/net/connected_pair.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::tcp_listener;
using weft::net::tcp_stream;

using weft::testing::connected_pair;
using weft::testing::two_workers;

// One read_some of up to 16 bytes, to start as a task that waits in the reactor.
weft::coro<std::size_t> read_some_of(tcp_stream& in) {
    std::array<char, 16> buffer;
    co_return co_await in.read_some(buffer);
}

int error_of(const std::system_error& error) {
    return error.code().value();
}

// Awaits `operation` on a socket whose runtime has ended, which must refuse it.
template <class T>
weft::coro<> expect_runtime_ended(weft::coro<T> operation) {
    try {
        (void)co_await std::move(operation);
        ADD_FAILURE() << "an operation ran on a socket whose runtime has ended";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("its runtime has ended"), std::string::npos)
            << error.what();
    }
}

TEST(TcpStream, BytesGoBothWaysAndTheEndOfTheStreamReadsAsZero) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            EXPECT_TRUE(client.is_open());
            EXPECT_EQ(client.peer().rfind("127.0.0.1:", 0), 0u);
            co_await client.write_all("hello");
            std::array<char, 16> buffer{};
            std::size_t got = 0;
            while (got < 5) {
                got += co_await server.read_some(std::span(buffer).subspan(got));
            }
            EXPECT_EQ(std::string(buffer.data(), got), "hello");
            co_await server.write_all("world!");
            std::array<char, 6> reply{};
            co_await client.read_exact(reply);
            EXPECT_EQ(std::string(reply.data(), reply.size()), "world!");
            client.shutdown_write(); // half-close: the server sees the end, can still write
            EXPECT_EQ(co_await server.read_some(buffer), 0u);
            co_await server.write_all("bye");
            server.close();
            std::array<char, 8> last{};
            try {
                co_await client.read_exact(last);
                ADD_FAILURE() << "read past the end";
            } catch (const weft::net::incomplete_read& error) {
                EXPECT_EQ(error.bytes_read(), 3u);
                EXPECT_EQ(error.expected(), 8u);
                EXPECT_EQ(std::string(last.data(), 3), "bye");
            }
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(TcpStream, LargeWritesAndReadsTakeManySystemCalls) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            std::string sent(8 << 20, '\0'); // far more than the socket buffers hold
            for (std::size_t i = 0; i < sent.size(); ++i) {
                sent[i] = static_cast<char>(i * 131 + (i >> 12));
            }
            weft::task<> writer =
                weft::create_task([](tcp_stream& out, const std::string& data) -> weft::coro<> {
                    co_await out.write_all(data);
                    out.shutdown_write();
                }(client, sent));
            std::string received;
            std::array<char, 64 * 1024> buffer;
            std::size_t reads = 0;
            for (;;) {
                const std::size_t got = co_await server.read_some(buffer);
                if (got == 0) {
                    break;
                }
                ++reads;
                received.append(buffer.data(), got);
            }
            co_await writer;
            EXPECT_EQ(received.size(), sent.size());
            EXPECT_TRUE(received == sent);
            EXPECT_GT(reads, 8u);
        }(),
        two_workers);
}

TEST(TcpStream, ConnectResolvesNamesOnTheBlockingPool) {
    weft::run(
        []() -> weft::coro<> {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            weft::task<tcp_stream> client =
                weft::create_task(tcp_stream::connect("localhost", listener.local_port()));
            tcp_stream accepted = co_await listener.accept();
            tcp_stream connected = co_await std::move(client);
            co_await connected.write_all("x");
            std::array<char, 1> one{};
            co_await accepted.read_exact(one);
            EXPECT_EQ(one[0], 'x');
        }(),
        two_workers);
}

TEST(TcpStream, AClosedPortRefusesTheConnection) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            std::uint16_t port = 0;
            {
                tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
                port = listener.local_port();
            } // closed: nothing listens there now
            try {
                (void)co_await tcp_stream::connect("127.0.0.1", port);
                ADD_FAILURE() << "connected to a closed port";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error_of(error), ECONNREFUSED);
                EXPECT_NE(
                    std::string(error.what()).find("weft::net::tcp_stream::connect 127.0.0.1:"),
                    std::string::npos)
                    << error.what();
            }
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

TEST(TcpStream, AResetPeerFailsTheReadWithConnectionReset) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            weft::task<std::size_t> reader = weft::create_task(read_some_of(server));
            co_await weft::sleep(20ms); // the read is waiting in the reactor
            const linger abort_on_close{1, 0};
            EXPECT_EQ(setsockopt(client.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                                 sizeof abort_on_close),
                      0);
            client.close(); // sends RST
            try {
                (void)co_await reader;
                ADD_FAILURE() << "the read did not see the reset";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error_of(error), ECONNRESET);
                EXPECT_NE(std::string(error.what()).find("read_some 127.0.0.1:"), std::string::npos)
                    << error.what();
            }
        }(),
        two_workers);
}

TEST(TcpStream, AReadTimeoutLeavesTheStreamUsable) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            std::array<char, 16> buffer{};
            EXPECT_THROW((void)co_await weft::wait_for(server.read_some(buffer), 30ms),
                         weft::timeout_error);
            co_await client.write_all("late");
            std::array<char, 4> four{};
            co_await server.read_exact(four);
            EXPECT_EQ(std::string(four.data(), 4), "late");
        }(),
        two_workers);
}

TEST(TcpStream, ACancelledReadLeavesTheReactorAndTheNextReadGetsTheData) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            weft::task<std::size_t> reader = weft::create_task(read_some_of(server));
            co_await weft::sleep(10ms);
            reader.cancel();
            EXPECT_THROW((void)co_await reader, weft::cancelled_error);
            co_await client.write_all("kept");
            std::array<char, 4> four{};
            co_await server.read_exact(four);
            EXPECT_EQ(std::string(four.data(), 4), "kept");
        }(),
        two_workers);
}

// In virtual time the workers serve sockets and timers together: a read that waits while
// the writer sleeps gets the data once the clock has jumped to the writer's deadline, and an
// exchange of many messages goes on beside a long sleep, which still ends.
class TcpStreamVirtualTime : public testing::TestWithParam<std::size_t> {};

TEST_P(TcpStreamVirtualTime, AReadWaitsForAWriterThatSleeps) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            const weft::clock::time_point start = weft::clock::now();
            weft::task<> writer = weft::create_task([](tcp_stream& out) -> weft::coro<> {
                co_await weft::sleep(10s);
                co_await out.write_all("woke");
            }(client));
            std::array<char, 4> four{};
            co_await server.read_exact(four);
            EXPECT_EQ(std::string(four.data(), 4), "woke");
            EXPECT_EQ(weft::clock::now() - start, 10s);
            co_await writer;
        }(),
        weft::run_options{.workers = GetParam(), .virtual_time = true});
}

TEST_P(TcpStreamVirtualTime, AnExchangeGoesOnBesideALongSleep) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            const weft::clock::time_point start = weft::clock::now();
            weft::task<> sleeper = weft::create_task(weft::sleep(1h));
            for (int round = 0; round < 200; ++round) {
                co_await client.write_all("ping");
                std::array<char, 4> four{};
                co_await server.read_exact(four);
                const bool pinged = std::string_view(four.data(), four.size()) == "ping";
                co_await server.write_all(pinged ? "pong" : "fail");
                co_await client.read_exact(four);
                EXPECT_EQ(std::string(four.data(), 4), "pong");
            }
            co_await sleeper;
            EXPECT_EQ(weft::clock::now() - start, 1h);
        }(),
        weft::run_options{.workers = GetParam(), .virtual_time = true});
}

INSTANTIATE_TEST_SUITE_P(Workers, TcpStreamVirtualTime, testing::Values(1, 2));

TEST(TcpStream, AClosedOrEmptyStreamRefusesOperations) {
    weft::run(
        []() -> weft::coro<> {
            tcp_stream empty;
            EXPECT_FALSE(empty.is_open());
            EXPECT_EQ(empty.native_handle(), -1);
            std::array<char, 4> buffer{};
            EXPECT_THROW((void)co_await empty.read_some(buffer), weft::invalid_state_error);
            EXPECT_THROW(co_await empty.write_all("x"), weft::invalid_state_error);
            EXPECT_THROW(empty.shutdown_write(), weft::invalid_state_error);
            auto [client, server] = co_await connected_pair();
            client.set_nodelay();
            EXPECT_GT(client.local_port(), 0);
            tcp_stream moved = std::move(client);
            EXPECT_FALSE(client.is_open());
            EXPECT_TRUE(moved.is_open());
            moved.close();
            moved.close(); // twice is fine
            EXPECT_THROW(co_await moved.write_all("x"), weft::invalid_state_error);
        }(),
        two_workers);
}

// Assigning a stream moves its socket and peer over; the socket the target held closes, so
// its peer reads the end of the stream.
TEST(TcpStream, MoveAssignmentClosesTheSocketItReplaces) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        []() -> weft::coro<> {
            auto [replaced, replaced_peer] = co_await connected_pair();
            auto [kept, kept_peer] = co_await connected_pair();
            const std::string peer = kept.peer();
            replaced = std::move(kept);
            EXPECT_FALSE(kept.is_open());
            EXPECT_EQ(replaced.peer(), peer);
            std::array<char, 4> buffer{};
            EXPECT_EQ(co_await replaced_peer.read_some(buffer), 0u);
            co_await replaced.write_all("x");
            EXPECT_EQ(co_await kept_peer.read_some(buffer), 1u);
        }(),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

// The runtime, and its reactor, end before the streams it made: waiting operations refuse
// with weft::runtime_error in a later run (even with data ready to read), the others still
// act on the descriptor, and closing one, explicitly or by its destructor, on this thread or
// another, only closes the descriptor.
TEST(TcpStream, AStreamThatOutlivesItsRuntimeRefusesToWaitAndClosesWithoutIt) {
    const std::size_t before = weft::testing::open_descriptors();
    {
        std::pair<tcp_stream, tcp_stream> pair = weft::run(
            []() -> weft::coro<std::pair<tcp_stream, tcp_stream>> {
                auto pair = co_await connected_pair();
                co_await pair.first.write_all("left behind");
                co_return pair;
            }(),
            two_workers);
        tcp_stream& client = pair.first;
        tcp_stream& server = pair.second;
        EXPECT_TRUE(client.is_open());
        EXPECT_TRUE(server.is_open());
        weft::run(
            [](tcp_stream& client, tcp_stream& server) -> weft::coro<> {
                // Sized to the data waiting, so that no read blocks if one is let through.
                std::array<char, 4> first{};
                std::array<char, 7> rest{};
                co_await expect_runtime_ended(server.read_exact(first));
                co_await expect_runtime_ended(server.read_some(rest));
                co_await expect_runtime_ended(client.write_all("more"));
            }(client, server),
            two_workers);
        EXPECT_GT(client.local_port(), 0);
        client.set_nodelay();
        client.shutdown_write();
        std::thread([&client] { client.close(); }).join();
        EXPECT_FALSE(client.is_open());
        client.close(); // twice is fine
    }                   // server's destructor
    EXPECT_EQ(weft::testing::open_descriptors(), before);
}

} // namespace
