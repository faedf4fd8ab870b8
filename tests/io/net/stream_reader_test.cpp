// Tests weft::net::stream_reader (include/weft/net/stream_reader.hpp,
// include/weft/detail/read_buffer.hpp) over a scripted in-memory stream, where each read
// returns one chosen chunk (delimiters split across reads, records that make the buffer grow
// and compact, the limit, the end of the stream), and over loopback TCP (lines, a read that
// times out and leaves its bytes buffered, exact reads larger than the buffer). Also the
// std::byte overloads of tcp_stream and its vectored write (runtime/io/net/tcp_stream.cpp),
// with more buffers than one sendmsg takes and more bytes than the socket buffer holds.
#include <weft/net.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/net/connected_pair.hpp"

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::net::stream_reader;
using weft::net::tcp_stream;

using weft::testing::two_workers;

// A stream that answers each read with its next chunk (cut to the buffer, the rest kept for
// the next read), then with the end; it records the size of every buffer it was given.
class scripted_stream {
public:
    explicit scripted_stream(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}

    weft::coro<std::size_t> read_some(std::span<char> buffer) {
        buffer_sizes.push_back(buffer.size());
        if (next_ == chunks_.size()) {
            co_return 0;
        }
        std::string& chunk = chunks_[next_];
        const std::size_t count = std::min(chunk.size(), buffer.size());
        std::copy_n(chunk.data(), count, buffer.data());
        chunk.erase(0, count);
        if (chunk.empty()) {
            ++next_;
        }
        co_return count;
    }

    std::vector<std::size_t> buffer_sizes;

private:
    std::vector<std::string> chunks_;
    std::size_t next_ = 0;
};

using weft::testing::connected_pair;

// `size` bytes that differ from their neighbours, to catch a byte out of place.
std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>(i * 131 + (i >> 10));
    }
    return bytes;
}

TEST(StreamReader, ADelimiterSplitAcrossReadsIsFoundAndTheRestStaysBuffered) {
    weft::run([]() -> weft::coro<> {
        scripted_stream in({"GET / HTTP/1.1\r", "\n", "Host: x\r\n\r", "\nnext\r\n\r\nta", "il"});
        stream_reader reader(in);
        EXPECT_EQ(co_await reader.read_until("\r\n\r\n"), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(reader.buffered(), "next\r\n\r\nta");
        EXPECT_EQ(co_await reader.read_until("\r\n\r\n"), "next\r\n\r\n");
        try {
            (void)co_await reader.read_until("\r\n\r\n");
            ADD_FAILURE() << "read_until went past the end";
        } catch (const weft::net::incomplete_read& error) {
            EXPECT_EQ(error.bytes_read(), 4u);
            EXPECT_EQ(error.expected(), 0u);
            EXPECT_NE(std::string(error.what()).find("stream_reader::read_until"),
                      std::string::npos);
        }
        EXPECT_EQ(reader.buffered(), "tail"); // the unterminated rest stays readable
        EXPECT_FALSE(reader.at_eof());
        reader.consume(4);
        EXPECT_TRUE(reader.at_eof());
    }());
}

TEST(StreamReader, ReadLineReturnsTheUnterminatedRestAndThenNothing) {
    weft::run([]() -> weft::coro<> {
        scripted_stream in({"one\ntw", "o\n\nthr", "ee"});
        stream_reader reader(in);
        EXPECT_EQ(co_await reader.read_line(), "one\n");
        EXPECT_EQ(co_await reader.read_line(), "two\n");
        EXPECT_EQ(co_await reader.read_line(), "\n");
        EXPECT_EQ(co_await reader.read_line(), "three");
        EXPECT_EQ(co_await reader.read_line(), "");
        EXPECT_TRUE(reader.at_eof());
    }());
}

TEST(StreamReader, ARecordLongerThanTheLimitFailsAndLeavesItsBytesBuffered) {
    weft::run([]() -> weft::coro<> {
        scripted_stream in({"0123456789abcde\n", "0123456789abcdef", "gh\nrest\n"});
        stream_reader reader(in, 16);
        EXPECT_EQ(co_await reader.read_line(), "0123456789abcde\n"); // exactly the limit
        try {
            (void)co_await reader.read_line();
            ADD_FAILURE() << "a 19-byte line passed a 16-byte limit";
        } catch (const weft::net::limit_overrun& error) {
            EXPECT_EQ(error.consumed(), 16u);
            EXPECT_NE(std::string(error.what()).find("16 bytes (the limit)"), std::string::npos)
                << error.what();
        }
        EXPECT_EQ(reader.buffered(), "0123456789abcdef");
        EXPECT_THROW((void)co_await reader.fill(), weft::net::limit_overrun);
        reader.consume(reader.buffered().size()); // skip the long line's start
        EXPECT_EQ(co_await reader.read_line(), "gh\n");
        EXPECT_EQ(co_await reader.read_line(), "rest\n");
    }());
}

TEST(StreamReader, TheBufferGrowsToTheLimitForALongRecordAndCompactsBehindShortOnes) {
    weft::run([]() -> weft::coro<> {
        std::string long_record = pattern(40'000);
        std::replace(long_record.begin(), long_record.end(), '|', '-'); // one delimiter, last
        long_record += '|';
        auto short_record = [](int i) {
            return std::string("short ").append(std::to_string(i)) + "|";
        };
        std::vector<std::string> chunks;
        for (int i = 0; i < 2000; ++i) {
            chunks.push_back(short_record(i));
        }
        chunks.push_back(long_record);
        scripted_stream in(std::move(chunks));
        stream_reader reader(in);
        for (int i = 0; i < 2000; ++i) {
            std::string record = co_await reader.read_until("|");
            EXPECT_EQ(record, short_record(i));
        }
        EXPECT_TRUE(co_await reader.read_until("|") == long_record);
        const auto [smallest, largest] =
            std::minmax_element(in.buffer_sizes.begin(), in.buffer_sizes.end());
        EXPECT_GE(*smallest, 4096u); // compaction keeps reads from getting slivers
        EXPECT_LE(*largest, weft::net::stream_reader<scripted_stream>::default_limit);
    }());
}

TEST(StreamReader, ReadExactAndReadSomeTakeBufferedBytesFirst) {
    weft::run([]() -> weft::coro<> {
        const std::string big = pattern(100'000);
        scripted_stream in({"head\nab", "cdef", big, "xy"});
        stream_reader reader(in);
        EXPECT_EQ(co_await reader.read_line(), "head\n");
        std::array<char, 5> five{};
        co_await reader.read_exact(five);
        EXPECT_EQ(std::string_view(five.data(), 5), "abcde");
        std::array<char, 4> four{};
        EXPECT_EQ(co_await reader.read_some(four), 1u); // only the buffered "f"
        EXPECT_EQ(four[0], 'f');
        std::string received(big.size(), '\0');
        co_await reader.read_exact(received); // larger than the buffer: straight into it
        EXPECT_TRUE(received == big);
        std::array<char, 3> three{};
        try {
            co_await reader.read_exact(three);
            ADD_FAILURE() << "read_exact went past the end";
        } catch (const weft::net::incomplete_read& error) {
            EXPECT_EQ(error.bytes_read(), 2u);
            EXPECT_EQ(error.expected(), 3u);
            EXPECT_EQ(std::string_view(three.data(), 2), "xy");
        }
        EXPECT_EQ(co_await reader.read_some(three), 0u);
    }());
}

TEST(StreamReader, BadArgumentsAreRefusedByName) {
    weft::run([]() -> weft::coro<> {
        scripted_stream in({"abc"});
        EXPECT_THROW(stream_reader(in, 0), weft::invalid_argument);
        stream_reader reader(in);
        EXPECT_THROW((void)co_await reader.read_until(""), weft::invalid_argument);
        EXPECT_EQ(co_await reader.fill(), 3u);
        EXPECT_THROW(reader.consume(4), weft::invalid_argument);
        EXPECT_EQ(reader.buffered(), "abc");
    }());
}

TEST(StreamReader, LinesOverTcpAndATimedOutReadKeepsItsBytes) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            stream_reader reader(server);
            co_await client.write_all("first line\nsecond");
            EXPECT_EQ(co_await reader.read_line(), "first line\n");
            EXPECT_THROW((void)co_await weft::wait_for(reader.read_line(), 30ms),
                         weft::timeout_error);
            EXPECT_EQ(reader.buffered(), "second");
            co_await client.write_all(" line\n");
            client.shutdown_write();
            EXPECT_EQ(co_await reader.read_line(), "second line\n");
            EXPECT_EQ(co_await reader.read_line(), "");
            EXPECT_TRUE(reader.at_eof());
        }(),
        two_workers);
}

TEST(TcpStreamBuffers, ByteSpansGoBothWays) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            const std::array<std::byte, 4> sent{std::byte{0}, std::byte{0xff}, std::byte{7},
                                                std::byte{0x80}};
            co_await client.write_all(std::span<const std::byte>(sent));
            std::array<std::byte, 4> received{};
            std::size_t got = 0;
            while (got < received.size()) {
                got += co_await server.read_some(std::span<std::byte>(received).subspan(got));
            }
            EXPECT_EQ(received, sent);
        }(),
        two_workers);
}

TEST(TcpStreamBuffers, AVectoredWriteSendsManyBuffersInOrderAcrossPartialSends) {
    weft::run(
        []() -> weft::coro<> {
            auto [client, server] = co_await connected_pair();
            // 3000 buffers (more than IOV_MAX), 6 MB (more than the socket buffers), some
            // empty: sendmsg must stop midway in buffers and resume there.
            const std::string source = pattern(6 << 20);
            std::vector<std::string_view> parts;
            for (std::size_t at = 0, i = 0; at < source.size(); ++i) {
                const std::size_t size = std::min(source.size() - at, (i * 7919) % 4001);
                parts.push_back(std::string_view(source).substr(at, size));
                at += size;
            }
            EXPECT_GT(parts.size(), 3000u);
            weft::task<> writer = weft::create_task(
                [](tcp_stream& out, std::span<const std::string_view> buffers) -> weft::coro<> {
                    co_await out.write_all_vectored(buffers);
                    out.shutdown_write();
                }(client, parts));
            std::string received(source.size(), '\0');
            co_await server.read_exact(received);
            std::array<char, 1> after{};
            EXPECT_EQ(co_await server.read_some(after), 0u);
            co_await writer;
            EXPECT_TRUE(received == source);

            const std::array<std::byte, 2> ab{std::byte{'a'}, std::byte{'b'}};
            const std::array<std::byte, 1> c{std::byte{'c'}};
            const std::array<std::span<const std::byte>, 3> byte_parts{
                std::span<const std::byte>(ab), std::span<const std::byte>(), c};
            co_await server.write_all_vectored(byte_parts);
            std::array<char, 3> abc{};
            co_await client.read_exact(abc);
            EXPECT_EQ(std::string_view(abc.data(), 3), "abc");
        }(),
        two_workers);
}

} // namespace
