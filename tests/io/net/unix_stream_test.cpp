// Tests weft::net::unix_listener and weft::net::unix_stream (include/weft/net/unix_*.hpp,
// runtime/io/net/unix_*.cpp): bytes both ways over a filesystem path and over an abstract
// name, half-close and incomplete_read, byte buffers, weft::net::stream_reader over a Unix
// and a TCP stream, a vectored write larger than the socket buffer, paths that are empty or too
// long, a path nobody listens on, the stale socket file bind removes and the files it leaves alone,
// the socket file close removes (but not a replacement), a cancelled read and a read timeout that
// leave the stream usable, and no descriptor leaks.
#include <weft/net/stream_reader.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/unix_listener.hpp>
#include <weft/net/unix_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "io/net/unix_socket_files.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::unix_listener;
using weft::net::unix_stream;
namespace fs = std::filesystem;

using weft::testing::two_workers;

class UnixStream : public weft::testing::unix_socket_directory {};

// A connected pair through a listener at `path`.
weft::coro<std::pair<unix_stream, unix_stream>> connected_pair(unix_listener& listener) {
    weft::task<unix_stream> client = weft::create_task(unix_stream::connect(listener.path()));
    unix_stream server_side = co_await listener.accept();
    unix_stream client_side = co_await std::move(client);
    co_return std::pair{std::move(client_side), std::move(server_side)};
}

// Reads `count` bytes (fewer at the end) through read_some alone, three at a time.
template <class Stream>
weft::coro<std::string> read_through_read_some(Stream& in, std::size_t count) {
    std::string got;
    std::array<char, 3> buffer;
    while (got.size() < count) {
        const std::size_t n = co_await in.read_some(buffer);
        if (n == 0) {
            break;
        }
        got.append(buffer.data(), n);
    }
    co_return got;
}

TEST_F(UnixStream, BytesGoBothWaysOverAPath) {
    const std::size_t before = weft::testing::open_descriptors();
    weft::run(
        [](const std::string path) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(path);
            EXPECT_EQ(listener.path(), path);
            EXPECT_TRUE(fs::is_socket(path));
            auto [client, server] = co_await connected_pair(listener);
            EXPECT_EQ(client.path(), path);
            co_await client.write_all("hello");
            EXPECT_EQ(co_await read_through_read_some(server, 5), "hello");
            co_await server.write_all("world!");
            std::array<char, 6> reply{};
            co_await client.read_exact(reply);
            EXPECT_EQ(std::string(reply.data(), reply.size()), "world!");
            // The server half-closes after "bye": the client's read_exact of 8 ends early,
            // and the client can still write back.
            co_await server.write_all("bye");
            server.shutdown_write();
            std::array<char, 8> last{};
            std::string failure; // stays empty if nothing is thrown
            try {
                co_await client.read_exact(last);
            } catch (const weft::net::incomplete_read& error) {
                EXPECT_EQ(error.bytes_read(), 3u);
                failure = error.what();
            }
            EXPECT_EQ(failure.rfind("weft::net::unix_stream::read_exact " + path, 0), 0u)
                << failure;
            co_await client.write_all("after");
            client.close();
            EXPECT_EQ(co_await read_through_read_some(server, 99), "after");
        }(socket_path("s")),
        two_workers);
    EXPECT_EQ(weft::testing::open_descriptors(), before);
    EXPECT_FALSE(fs::exists(socket_path("s"))); // the listener removed its file
}

TEST_F(UnixStream, AnAbstractNameNeedsNoFile) {
    const std::string name = "@weft-test-" + std::to_string(::getpid());
    weft::run(
        [](std::string name) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(name);
            EXPECT_EQ(listener.path(), name);
            auto [client, server] = co_await connected_pair(listener);
            const std::array<std::byte, 2> sent{std::byte{1}, std::byte{0}};
            co_await client.write_all(sent);
            std::array<std::byte, 2> got{};
            co_await server.read_exact(got);
            EXPECT_EQ(got, sent);
            std::array<std::byte, 4> more{};
            co_await server.write_all(std::string_view("ok"));
            EXPECT_EQ(co_await client.read_some(more), 2u);
            // The same name written with a leading NUL reaches the same listener.
            weft::task<unix_stream> again =
                weft::create_task(unix_stream::connect(std::string(1, '\0') + name.substr(1)));
            unix_stream accepted = co_await listener.accept();
            EXPECT_TRUE((co_await std::move(again)).is_open());
        }(name),
        two_workers);
    EXPECT_FALSE(fs::exists(name));
}

TEST_F(UnixStream, OneStreamReaderTypeServesUnixAndTcpStreams) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_listener local = unix_listener::bind(path);
            auto [unix_client, unix_server] = co_await connected_pair(local);
            weft::net::tcp_listener remote = weft::net::tcp_listener::bind("127.0.0.1", 0);
            weft::task<weft::net::tcp_stream> dialing =
                weft::create_task(weft::net::tcp_stream::connect("127.0.0.1", remote.local_port()));
            weft::net::tcp_stream tcp_server = co_await remote.accept();
            weft::net::tcp_stream tcp_client = co_await std::move(dialing);
            co_await unix_client.write_all("over unix\nrest");
            unix_client.shutdown_write();
            co_await tcp_client.write_all("over tcp");
            weft::net::stream_reader from_unix(unix_server);
            EXPECT_EQ(co_await from_unix.read_line(), "over unix\n");
            std::array<char, 5> five{};
            try {
                co_await from_unix.read_exact(five);
                ADD_FAILURE() << "read_exact past the end did not throw";
            } catch (const weft::net::incomplete_read& error) {
                EXPECT_EQ(error.bytes_read(), 4u);
                EXPECT_NE(std::string(error.what()).find("stream_reader::read_exact"),
                          std::string::npos)
                    << error.what();
            }
            weft::net::stream_reader from_tcp(tcp_server);
            std::array<char, 8> eight{};
            co_await from_tcp.read_exact(eight);
            EXPECT_EQ(std::string_view(eight.data(), eight.size()), "over tcp");
        }(socket_path("s")),
        two_workers);
}

TEST_F(UnixStream, AVectoredWriteSendsEveryBufferInOrderAcrossPartialSends) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(path);
            auto [client, server] = co_await connected_pair(listener);
            // Far more than a Unix socket buffers, so sendmsg stops midway in some buffer.
            std::string expected;
            std::vector<std::string> pieces;
            for (int i = 0; i < 2000; ++i) {
                pieces.push_back(std::to_string(i) +
                                 std::string(997, static_cast<char>('a' + i % 26)));
                expected += pieces.back();
            }
            std::vector<std::string_view> parts(pieces.begin(), pieces.end());
            parts.insert(parts.begin() + 7, std::string_view()); // an empty buffer is skipped
            weft::task<> writer = weft::create_task(
                [](unix_stream& out, std::span<const std::string_view> buffers) -> weft::coro<> {
                    co_await out.write_all_vectored(buffers);
                    const std::array<std::byte, 2> tail{std::byte{'!'}, std::byte{'?'}};
                    const std::array<std::span<const std::byte>, 1> byte_parts{tail};
                    co_await out.write_all_vectored(byte_parts);
                    out.shutdown_write();
                }(client, parts));
            std::string received(expected.size() + 2, '\0');
            co_await server.read_exact(std::span<char>(received));
            std::array<char, 1> after{};
            EXPECT_EQ(co_await server.read_some(after), 0u);
            co_await writer;
            EXPECT_TRUE(received == expected + "!?");
        }(socket_path("s")),
        two_workers);
}

TEST_F(UnixStream, EmptyAndTooLongPathsAreRefusedSayingTheLimit) {
    weft::run(
        [](std::string directory) -> weft::coro<> {
            EXPECT_THROW((void)unix_listener::bind(""), weft::invalid_argument);
            const std::string too_long = directory + "/" + std::string(120, 'p');
            try {
                (void)unix_listener::bind(too_long);
                ADD_FAILURE() << "bound a path longer than sockaddr_un holds";
            } catch (const weft::invalid_argument& error) {
                EXPECT_NE(std::string(error.what()).find("at most 107 bytes"), std::string::npos)
                    << error.what();
            }
            EXPECT_THROW((void)co_await unix_stream::connect("@" + std::string(107, 'a')),
                         weft::invalid_argument);
            // 107 bytes is the longest that fits.
            unix_listener longest = unix_listener::bind("@" + std::string(106, 'a'));
            EXPECT_TRUE(longest.is_open());
        }(directory_.string()),
        two_workers);
}

TEST_F(UnixStream, ConnectingWhereNothingListensFails) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            try {
                (void)co_await unix_stream::connect(path);
                ADD_FAILURE() << "connected to a path that does not exist";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), ENOENT);
                EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
            }
        }(socket_path("missing")),
        two_workers);
}

TEST_F(UnixStream, BindRemovesAStaleSocketFileButNothingElse) {
    weft::testing::leave_stale_socket_file(socket_path("stale"), SOCK_STREAM);
    ASSERT_TRUE(fs::is_socket(socket_path("stale")));
    std::ofstream(socket_path("plain")) << "not a socket";
    weft::run(
        [](std::string stale, std::string plain) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(stale);
            auto [client, server] = co_await connected_pair(listener);
            co_await client.write_all("x");
            std::array<char, 1> one{};
            co_await server.read_exact(one);
            try { // a live listener's path is in use
                (void)unix_listener::bind(stale);
                ADD_FAILURE() << "took the path of a live listener";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EADDRINUSE);
            }
            try { // a file that is not a socket stays
                (void)unix_listener::bind(plain);
                ADD_FAILURE() << "bound over a regular file";
            } catch (const std::system_error& error) {
                EXPECT_EQ(error.code().value(), EADDRINUSE);
            }
        }(socket_path("stale"), socket_path("plain")),
        two_workers);
    EXPECT_TRUE(fs::is_regular_file(socket_path("plain")));
}

TEST_F(UnixStream, CloseLeavesAFileThatReplacedTheSocket) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(path);
            fs::remove(path);
            std::ofstream(path) << "someone else's";
            listener.close();
            EXPECT_TRUE(fs::is_regular_file(path));
            co_return;
        }(socket_path("s")),
        two_workers);
}

TEST_F(UnixStream, ACancelledReadAndAReadTimeoutLeaveTheStreamUsable) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(path);
            auto [client, server] = co_await connected_pair(listener);
            weft::task<std::string> reader = weft::create_task(read_through_read_some(server, 1));
            co_await weft::sleep(10ms); // the read is waiting in the reactor
            reader.cancel();
            EXPECT_THROW((void)co_await reader, weft::cancelled_error);
            std::array<char, 4> four{};
            EXPECT_THROW(co_await weft::wait_for(server.read_exact(four), 30ms),
                         weft::timeout_error);
            co_await client.write_all("kept");
            co_await server.read_exact(four);
            EXPECT_EQ(std::string(four.data(), 4), "kept");
        }(socket_path("s")),
        two_workers);
}

TEST_F(UnixStream, AClosedListenerRefusesToAccept) {
    weft::run(
        [](std::string path) -> weft::coro<> {
            unix_listener listener = unix_listener::bind(path);
            listener.close();
            EXPECT_FALSE(fs::exists(path));
            EXPECT_THROW((void)co_await listener.accept(), weft::invalid_state_error);
        }(socket_path("s")),
        two_workers);
}

} // namespace
