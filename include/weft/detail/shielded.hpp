// The awaitable weft::shield returns (include/weft/shield.hpp): a task or future awaited
// with a wait that a cancellation of the awaiting task withdraws without passing it on.
#pragma once

#include <utility>

#include <weft/detail/completion_awaiter.hpp>

namespace weft::detail {

// The awaitable shield returns: it holds the task or future, and makes the awaiter (which
// cannot move: it is linked into a waiter list while suspended) only when awaited.
template <class Source>
class [[nodiscard]] shielded {
public:
    explicit shielded(Source work) noexcept : work_(std::move(work)) {}
    shielded(shielded&&) noexcept = default;
    shielded(const shielded&) = delete;

    // Withdraws its wait when the awaiter is cancelled: `work` is not cancelled with it.
    completion_awaiter<Source, true, false> operator co_await() && noexcept {
        return completion_awaiter<Source, true, false>(std::move(work_));
    }

private:
    Source work_;
};

} // namespace weft::detail
