// weft::net::read_chunks: a tcp_stream's bytes as a generator of chunks, each what one
// read_some returned (at most `max_chunk` bytes), until the peer closes its end (asyncio's
// `async for chunk in reader.iter_chunked(n)`-style reading).
//
//     auto chunks = weft::net::read_chunks(conn);
//     while (auto chunk = co_await chunks.next()) parser.feed(*chunk);
//
// The generator reads `stream`, which must outlive it; writing on the stream between chunks
// is fine (one task reads while another may write). A read error reaches the consumer from
// next(), as does cancelling it (the stream stays usable, see tcp_stream.hpp).
#pragma once

#include <cstddef>
#include <string>

#include <weft/errors.hpp>
#include <weft/generator.hpp>
#include <weft/net/tcp_stream.hpp>

namespace weft::net {

namespace detail {
inline generator<std::string> chunks_of(tcp_stream& stream, std::size_t max_chunk) {
    std::string buffer(max_chunk, '\0');
    while (const std::size_t got = co_await stream.read_some(buffer)) {
        co_yield std::string(buffer.data(), got);
    }
}
} // namespace detail

// Throws weft::invalid_argument if `max_chunk` is 0.
inline generator<std::string> read_chunks(tcp_stream& stream, std::size_t max_chunk = 64 * 1024) {
    if (max_chunk == 0) {
        throw invalid_argument("weft::net::read_chunks: max_chunk is 0; a chunk needs a byte");
    }
    return detail::chunks_of(stream, max_chunk);
}

} // namespace weft::net
