// The member definitions of weft::net::stream_reader (declared, with its contract, in
// <weft/net/stream_reader.hpp>, which includes this file at its end). A failed read leaves
// the buffered bytes in place: limit_overrun and incomplete_read never consume.
#pragma once

#include <string>

#include <weft/errors.hpp>
#include <weft/net/stream_reader.hpp>

namespace weft::net {

template <readable_stream Stream>
stream_reader<Stream>::stream_reader(Stream& stream, std::size_t limit)
    : stream_(&stream), buffer_(limit) {
    if (limit == 0) {
        throw invalid_argument(describe("stream_reader") + ": the limit is 0");
    }
}

template <readable_stream Stream>
coro<> stream_reader<Stream>::read_exact(std::span<char> out) {
    std::size_t filled = buffer_.take(out);
    while (filled < out.size()) {
        const std::size_t got = co_await read_some(out.subspan(filled));
        if (got == 0) {
            throw incomplete_read(describe("read_exact"), filled, out.size());
        }
        filled += got;
    }
}

template <readable_stream Stream>
coro<std::size_t> stream_reader<Stream>::read_some(std::span<char> out) {
    if (buffer_.size() == 0 && !out.empty() && !eof_) {
        if (out.size() < weft::detail::read_buffer::first_capacity) {
            co_await fill();
        } else {
            const std::size_t got = co_await stream_->read_some(out);
            eof_ = got == 0;
            co_return got;
        }
    }
    co_return buffer_.take(out);
}

template <readable_stream Stream>
void stream_reader<Stream>::consume(std::size_t count) {
    if (count > buffer_.size()) {
        throw invalid_argument(describe("consume") + ": " + std::to_string(count) +
                               " bytes asked, " + std::to_string(buffer_.size()) + " held");
    }
    buffer_.consume(count);
}

template <readable_stream Stream>
coro<std::size_t> stream_reader<Stream>::fill() {
    if (buffer_.full()) {
        throw limit_overrun(describe("fill") + ": the buffer holds its limit, " +
                                std::to_string(buffer_.limit()) + " bytes",
                            buffer_.size());
    }
    if (eof_) {
        co_return 0;
    }
    const std::size_t got = co_await stream_->read_some(buffer_.space());
    buffer_.commit(got);
    eof_ = got == 0;
    co_return got;
}

template <readable_stream Stream>
coro<std::string> stream_reader<Stream>::take_until(std::string_view delimiter,
                                                    const char* operation, bool rest_at_end) {
    if (delimiter.empty()) {
        throw invalid_argument(describe(operation) + ": the delimiter is empty");
    }
    std::size_t searched = 0; // no delimiter starts before this buffered offset
    for (;;) {
        const std::string_view data = buffer_.data();
        const std::size_t at = data.find(delimiter, searched);
        if (at != std::string_view::npos || (eof_ && rest_at_end)) {
            std::string record(data.substr(0, at == data.npos ? at : at + delimiter.size()));
            buffer_.consume(record.size());
            co_return record;
        }
        searched = data.size() < delimiter.size() ? 0 : data.size() - delimiter.size() + 1;
        if (buffer_.full()) {
            throw limit_overrun(describe(operation) + ": no delimiter in the first " +
                                    std::to_string(data.size()) + " bytes (the limit)",
                                data.size());
        }
        if (co_await fill() == 0 && !rest_at_end) {
            throw incomplete_read(describe(operation), buffer_.size(), 0);
        }
    }
}

template <readable_stream Stream>
std::string stream_reader<Stream>::describe(const char* operation) const {
    std::string text = std::string("weft::net::stream_reader::") + operation;
    if constexpr (requires(const Stream& s) { std::string(s.peer()); }) {
        text += ' ';
        text += stream_->peer();
    }
    return text;
}

} // namespace weft::net
