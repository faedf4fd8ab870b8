// future_state: what the copies of one weft::future share, its waiter list, its result and
// whether anyone looked at its exception. The last copy's destruction reports an exception
// nobody retrieved, as asyncio does.
#pragma once

#include <atomic>
#include <exception>

#include <weft/detail/promise.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/outcome.hpp>

namespace weft::detail {

template <class T>
struct future_state {
    future_state() = default;
    future_state(const future_state&) = delete;
    future_state& operator=(const future_state&) = delete;
    // The last copy of the future is gone: an exception nobody looked at is reported, as
    // asyncio reports a Future's ("Future exception was never retrieved").
    ~future_state() {
        // relaxed: the shared_ptr's last release ordered every copy's use before us.
        if (retrieved.load(std::memory_order_relaxed)) {
            return;
        }
        const std::exception_ptr error = result.exception();
        if (error && !is_cancellation(error)) {
            report_unretrieved(error, nullptr);
        }
    }

    waiter_list waiters;
    outcome<T> result;
    std::atomic<bool> retrieved{false};
};

} // namespace weft::detail
