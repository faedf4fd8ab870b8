// weft::net::stream_reader: a buffered reader over a stream (asyncio's StreamReader; Tokio's
// BufReader), for lines, delimited records and exact byte counts.
//
//     weft::net::stream_reader reader(conn);           // reads conn, which it does not own
//     std::string line = co_await reader.read_line();  // "...\n"; "" at the end
//     std::string head = co_await reader.read_until("\r\n\r\n");
//     co_await reader.read_exact(body);                // fills a std::span<char>
//
// It works over any stream with `coro<std::size_t> read_some(std::span<char>)` (tcp_stream,
// unix_stream, and the reader itself). It holds at most `limit` bytes (64 KiB by default): a
// record longer than that throws limit_overrun, and the bytes stay buffered, as in asyncio,
// so the caller may consume() them or close. The end of the stream before a delimiter throws
// incomplete_read (read_line instead returns the unterminated rest, as asyncio's readline
// does), again leaving the bytes buffered. Parsers read buffered() in place, consume() what
// they parsed and fill() for more. One task reads a reader at a time; the stream must outlive
// it. Reading the stream directly while a reader holds bytes skips them.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <weft/coro.hpp>
#include <weft/detail/read_buffer.hpp>
#include <weft/net/tcp_stream.hpp>

namespace weft::net {

template <class Stream>
concept readable_stream = requires(Stream& stream, std::span<char> buffer) {
    { stream.read_some(buffer) } -> std::same_as<coro<std::size_t>>;
};

// A record did not fit in a stream_reader's limit (asyncio.LimitOverrunError); the bytes
// stay buffered.
class limit_overrun : public std::runtime_error {
public:
    limit_overrun(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), consumed_(consumed) {}
    // How many buffered bytes the record has already taken (all of them, the limit).
    std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

template <readable_stream Stream>
class stream_reader {
public:
    static constexpr std::size_t default_limit = 64 * 1024;

    // Throws weft::invalid_argument for a zero limit.
    explicit stream_reader(Stream& stream, std::size_t limit = default_limit);

    // The bytes up to and including the first `delimiter` (not empty).
    coro<std::string> read_until(std::string_view delimiter) {
        return take_until(delimiter, "read_until", false);
    }
    // The next line with its "\n", or, at the end of the stream, what is left ("" at last).
    coro<std::string> read_line() { return take_until("\n", "read_line", true); }
    // Fills `out`; if the stream ends first, throws incomplete_read with the bytes read in out.
    coro<> read_exact(std::span<char> out);
    // Buffered bytes if there are any, else one read (a read as large as the buffer's first
    // capacity goes straight into `out`); 0 at the end of the stream.
    coro<std::size_t> read_some(std::span<char> out);

    // The bytes read and not yet taken, valid until the next call on the reader.
    std::string_view buffered() const noexcept { return buffer_.data(); }
    // Drops the first `count` buffered bytes; weft::invalid_argument if fewer are buffered.
    void consume(std::size_t count);
    // Reads once more into the buffer; returns how many bytes came, 0 at the end of the
    // stream. Throws limit_overrun if the buffer already holds `limit` bytes.
    coro<std::size_t> fill();
    // The stream has ended and every byte was taken.
    bool at_eof() const noexcept { return eof_ && buffer_.size() == 0; }
    std::size_t limit() const noexcept { return buffer_.limit(); }
    Stream& stream() const noexcept { return *stream_; }

private:
    coro<std::string> take_until(std::string_view delimiter, const char* operation,
                                 bool rest_at_end);
    // "weft::net::stream_reader::read_line", and the peer when the stream knows one.
    std::string describe(const char* operation) const;

    Stream* stream_;
    weft::detail::read_buffer buffer_;
    bool eof_ = false; // the stream returned its end (0) once
};

} // namespace weft::net

#include <weft/detail/stream_reader_members.hpp>
