// Tests weft::net::read_chunks (include/weft/net/read_chunks.hpp): every byte the peer sent
// arrives, in order, in chunks of at most max_chunk bytes, and the generator ends when the
// peer closes; max_chunk 0 is refused; cancelling the consumer cancels the pending read.
#include <weft/net/read_chunks.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using weft::net::tcp_listener;
using weft::net::tcp_stream;

weft::coro<> send_then_close(std::uint16_t port, std::string data) {
    tcp_stream conn = co_await tcp_stream::connect("127.0.0.1", port);
    co_await conn.write_all(data);
}

TEST(ReadChunks, YieldsEveryByteInBoundedChunksUntilThePeerCloses) {
    const std::string sent(100'000, 'x');
    const auto [received, largest] =
        weft::run([](const std::string& sent) -> weft::coro<std::pair<std::string, std::size_t>> {
            auto listener = tcp_listener::bind("127.0.0.1", 0);
            auto sender = weft::create_task(send_then_close(listener.local_port(), sent));
            tcp_stream conn = co_await listener.accept();
            std::string received;
            std::size_t largest = 0;
            auto chunks = weft::net::read_chunks(conn, 4096);
            while (auto chunk = co_await chunks.next()) {
                EXPECT_FALSE(chunk->empty());
                largest = std::max(largest, chunk->size());
                received += *chunk;
            }
            co_await sender;
            co_return std::pair{received, largest};
        }(sent));
    EXPECT_EQ(received, sent);
    EXPECT_LE(largest, 4096u);
}

TEST(ReadChunks, AZeroChunkSizeIsRefused) {
    weft::run([]() -> weft::coro<> {
        tcp_stream unopened;
        EXPECT_THROW((void)weft::net::read_chunks(unopened, 0), weft::invalid_argument);
        co_return;
    }());
}

TEST(ReadChunks, CancellingTheConsumerCancelsThePendingRead) {
    weft::run([]() -> weft::coro<> {
        auto listener = tcp_listener::bind("127.0.0.1", 0);
        tcp_stream client = co_await tcp_stream::connect("127.0.0.1", listener.local_port());
        tcp_stream server = co_await listener.accept();
        auto reader = weft::create_task([](tcp_stream& server) -> weft::coro<> {
            auto chunks = weft::net::read_chunks(server);
            while (co_await chunks.next()) {
            }
        }(server));
        co_await weft::sleep(std::chrono::milliseconds(5));
        reader.cancel();
        EXPECT_THROW(co_await reader, weft::cancelled_error);
        // The stream is still usable after the cancelled read.
        co_await client.write_all("ok");
        char buffer[2];
        co_await server.read_exact(buffer);
        EXPECT_EQ(std::string(buffer, 2), "ok");
    }());
}

} // namespace
