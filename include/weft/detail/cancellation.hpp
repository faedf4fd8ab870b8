// Cancellation of a strand: the coroutines one task, or one gather child, runs one inside
// the other (a coroutine awaited inline joins the strand of its awaiter). Each strand has
// one word that says what it is doing, as far as a canceller cares:
//
//   0                 running; nothing pending
//   requested         running; a cancellation waits for the next suspension point
//   T                 suspended on T, an awaiter that a cancellation can interrupt
//   T | claimed       a canceller is interrupting T
//   T | delivered     the suspension on T ends in cancelled_error
//   ended             the strand has ended (or its frame was destroyed): nothing to cancel
//
// A request still pending when the strand starts ends it before its first step, and one
// pending when it returns a value ends it cancelled (asyncio never loses a cancel()).
//
// Only the strand itself publishes and leaves a target; only cancellers claim one. While a
// canceller holds the claim, leave_target() waits, so the target (which lives in the
// suspended frame) outlives the interruption. A target is one of two kinds:
//   - withdrawing (a sleep, a future): the interruption takes the wait back, racing its
//     normal end under the wait's own lock, and the canceller resumes the coroutine; if
//     the wait had already ended, the request stays pending for the next suspension;
//   - forwarding (a task, a gather): the interruption cancels what is awaited and lets
//     the wait go on; when it ends, the suspension ends in cancelled_error.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace weft::detail {

class runtime;

using strand_word = std::atomic<std::uintptr_t>;

// What a canceller did to a target it claimed.
struct interruption {
    enum class outcome : std::uint8_t { withdrawn, forwarded, too_late };

    outcome result = outcome::too_late;
    // When withdrawn: the coroutine to make ready, and the runtime it runs on.
    std::coroutine_handle<> resume{};
    runtime* home = nullptr;
};

struct alignas(8) cancel_target {
    // Called on the canceller's thread, at most once per suspension, while claimed.
    interruption (*interrupt)(cancel_target&) noexcept = nullptr;
};

// What a request_cancel did.
enum class cancel_result : std::uint8_t {
    accepted, // delivered, forwarded, or left pending (or one already was)
    ended,    // the strand had ended: nothing to cancel
    cycle,    // the strand is being interrupted by this very request, further up the chain
              // of forwarded cancellations: the waits form a cycle, which the forwarding
              // target that sees this must break by withdrawing its own wait
};

// Any thread: interrupts the strand's current target, or leaves the request for the
// strand's next suspension. A second request before the first is delivered adds nothing.
[[gnu::noinline]] cancel_result request_cancel(strand_word& word) noexcept;

// The strand's own thread, as it ends: marks it ended, so later requests find nothing to
// cancel. True if a request was still pending, which ends the strand cancelled.
[[gnu::noinline]] bool end_strand(strand_word& word) noexcept;

// The runtime's teardown, before it destroys a frame that never ended: waits out a canceller
// that holds the strand's target, then marks it ended, so no request reaches the frame.
[[gnu::noinline]] void seal_strand(strand_word& word) noexcept;

// The strand's own thread, as it suspends on `target` (a withdrawing target publishes
// inside the lock that guards its wait). False if a cancellation was pending: the
// suspension is then already cancelled, and a withdrawing awaiter must not suspend.
[[gnu::noinline]] bool publish_target(strand_word& word, cancel_target& target) noexcept;

// The strand's own thread, when the suspension on `target` ends: unpublishes it, first
// waiting out a canceller that holds it. True if the suspension was cancelled.
[[gnu::noinline]] bool leave_target(strand_word& word, cancel_target& target) noexcept;

// The strand's own thread, running, with no target published: consumes a request left
// pending for the next suspension point. A wait that was handed something (a permit, an
// item) calls it as it resumes, so that it can pass that on and end in cancelled_error,
// as asyncio does, instead of carrying on; a task calls it before its first step. True if
// a request was pending.
[[gnu::noinline]] bool take_pending_cancel(strand_word& word) noexcept;

} // namespace weft::detail
