// Connection handlers the server tests share, for any stream type (tcp_stream, unix_stream):
// an echo, and one that waits for ever and counts how often it was cancelled; and the
// shutdown signal a test hands a server.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string_view>

#include <weft/weft.hpp>

namespace weft::testing {

// Ends when `stop` is set: the shutdown signal a test hands a server.
inline coro<> wait_for_event(event& stop) {
    co_await stop.wait();
}

// Writes back what it reads until the client closes.
struct echo_handler {
    template <class Stream>
    coro<> operator()(Stream conn) const {
        std::array<char, 4096> buffer;
        while (const std::size_t got = co_await conn.read_some(buffer)) {
            co_await conn.write_all(std::string_view(buffer.data(), got));
        }
    }
};
inline constexpr echo_handler echo;

// Serves each connection by waiting for ever, counting the handlers started and cancelled.
struct stuck_handler {
    std::atomic<int>& started;
    std::atomic<int>& cancelled;

    template <class Stream>
    coro<> operator()(Stream) const {
        started.fetch_add(1);
        try {
            co_await sleep(std::chrono::hours(1));
        } catch (const cancelled_error&) {
            cancelled.fetch_add(1);
            throw;
        }
    }
};

} // namespace weft::testing
