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
//   ended_blind       a task's strand has ended by a plain store, having read no request
//                     just before: a request made between the two was never seen
//   S | claimed       a canceller is looking at the strand's forwarding slot (below)
//   S | delivered     the suspension on the gather in the forwarding slot ends cancelled
//
// A strand rooted in a gather child publishes a gather it awaits in its cell's forwarding
// slot, not in its word, and S above is the slot's address (never a target's). Such a
// strand nests gathers at every level of a fork-join tree, and the word's CAS pair (publish,
// leave) would be most of the locked instructions a node costs. The slot is written only by
// the strand; a canceller that reads the word 0 claims the slot through it and reads it.
// The store to the slot and the look at the word are the two halves of a store-then-load
// pairing with the canceller's claim and its read of the slot, and the strand pays for its
// half only while a canceller is armed (armed_cancellers): a canceller arms before its
// first claim with the heavy fence (runtime/task/heavy_fence.hpp), so a strand that read
// the count as zero had its slot store visible before any claim that could miss it. The
// argument in full is in docs/architecture.md, "Cancellation".
//
// A request still pending when the strand starts ends it before its first step, and one
// pending when it returns a value ends it cancelled (asyncio never loses a cancel()).
//
// A request may leave a message (task::cancel(message)) in the strand's cancel record
// (cancel_record.hpp). The strand takes it as it consumes the cancellation: when a
// suspension ends cancelled (leave_target), when it takes a pending request, or when one
// is pending at its end. The throw that follows on the same thread carries it.
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
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace weft::detail {

class runtime;

using strand_word = std::atomic<std::uintptr_t>;

struct cancel_target;

// A strand root's word and its forwarding slot (see the top), laid out as promise_base lays
// them out: the slot is the 32 bits right after the word. It holds the published gather as
// its distance from the word, 0 for none, so that it costs the promise no word of its own; a
// gather further away than 32 bits reach is published in the word instead.
struct strand_cell {
    strand_word word{0};
    std::atomic<std::int32_t> forwarding{0};
};

// Integer arithmetic: the slot is outside the word, which pointer arithmetic on it may not
// express.
inline std::atomic<std::int32_t>& forwarding_slot(strand_word& word) noexcept {
    static_assert(offsetof(strand_cell, forwarding) == sizeof(strand_word));
    return *reinterpret_cast<std::atomic<std::int32_t>*>(reinterpret_cast<std::uintptr_t>(&word) +
                                                         sizeof(strand_word));
}

// The slot's value for a target at address `target`, or 0 if it is too far from the word at
// `word` to be published there.
inline std::int32_t forwarding_distance(std::uintptr_t word, std::uintptr_t target) noexcept {
    const auto distance = static_cast<std::intptr_t>(target - word);
    const auto slot = static_cast<std::int32_t>(distance);
    return slot == distance ? slot : 0;
}
inline std::int32_t forwarding_distance(const strand_word& word,
                                        const cancel_target& target) noexcept {
    return forwarding_distance(reinterpret_cast<std::uintptr_t>(&word),
                               reinterpret_cast<std::uintptr_t>(&target));
}

// How many threads are armed as cancellers that may claim a forwarding slot (see the top);
// 1 for good when the heavy fence is not available, so that strands always pay their half.
extern std::atomic<std::uint32_t> armed_cancellers;

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

// request_cancel for a strand rooted in a gather child, whose gathers are published in its
// forwarding slot: every canceller of such a strand (its gather's, its deadline's) makes its
// requests with this. The caller keeps the strand's frame alive for the call, as a gather
// or a deadline does for its children until they have all ended.
[[gnu::noinline]] cancel_result request_child_cancel(strand_word& word) noexcept;

// A canceller that claimed a forwarding slot stays armed until its outermost request ends,
// unless it is a worker: a worker keeps itself armed (keep_canceller_armed(true) as it
// starts, false as it leaves), so as not to pay the heavy fence for every request of a
// burst (a gather's children, a shutdown's tasks), and disarms between steps once it made
// no claim since the last look (disarm_idle_canceller), or before it sleeps
// (disarm_canceller).
void keep_canceller_armed(bool keep) noexcept;
void disarm_idle_canceller() noexcept;
void disarm_canceller() noexcept;

// The word's flag bits; a target's address is a multiple of 8, so they never collide.
namespace strand_bits {
inline constexpr std::uintptr_t requested = 1;
inline constexpr std::uintptr_t claimed = 2;
inline constexpr std::uintptr_t delivered = 4;
// No target has address 0, so `delivered` alone names no suspension: it marks the end.
inline constexpr std::uintptr_t ended = delivered;
// A delivery never carries a pending request, so this pair is free too (end_task_strand).
inline constexpr std::uintptr_t ended_blind = delivered | requested;
} // namespace strand_bits

// Whether a word read by a canceller says the strand has ended.
inline bool has_ended(std::uintptr_t word) noexcept {
    return word == strand_bits::ended || word == strand_bits::ended_blind;
}

// The message a cancellation carries (task::cancel(message)); null for none. Shared, so
// handing it on never throws.
using cancel_message = std::shared_ptr<const std::string>;

// The strand's own thread, as it consumes a cancellation: takes the message the request
// left in the strand's cancel record, if any, for the throw that follows on this thread.
[[gnu::noinline]] void note_consumed(strand_word& word) noexcept;

// The cancelled_error for the cancellation this thread consumed last, with its message;
// each call takes the message, so it serves the one throw that follows the consumption.
[[noreturn, gnu::noinline]] void throw_delivered_cancellation();
[[gnu::noinline]] std::exception_ptr delivered_cancellation() noexcept;
// The message itself, for an awaiter that decides later what to throw.
cancel_message take_consumed_message() noexcept;
// A cancelled_error carrying `message`.
[[noreturn, gnu::noinline]] void throw_cancellation(const cancel_message& message);

// The strand's own thread, running with no target published, after it consumed a
// cancellation it does not end in (a task group that throws its failures instead): leaves
// the request pending again, with its message, for the strand's next suspension point.
[[gnu::noinline]] void rearm_cancel(strand_word& word, cancel_message message) noexcept;

// The strand's own thread, as it ends, or the runtime's teardown, before it destroys a frame
// that never ended: marks the strand ended, so later requests find nothing to cancel, once a
// canceller's claim (of the target or of the forwarding slot) is resolved. True if a request
// was still pending, which ends the strand cancelled; the caller then consumes it with
// note_consumed (the teardown has nothing to consume: the frame dies unresumed).
[[gnu::noinline]] bool end_strand(strand_word& word) noexcept;

// A task's end, under its waiter list's lock and before the list is marked done: ends the
// strand with a load and a plain store unless a request is pending, which it leaves for
// end_strand and reports with false. A request that lands between the two is overwritten:
// the store writes `ended_blind`, and the request's maker, which cannot tell from its own
// CAS, looks after it (the waiter list's lock released, the word `ended_blind`) and reports
// the task ended, as if it had come after the end. The pair (this load after the lock's
// RMW, the maker's look at the list after its RMW of this word) is Dekker's: all four are
// seq_cst, so one of the two sides sees the other (docs/architecture.md, "Cancellation").
inline bool end_task_strand(strand_word& word) noexcept {
    // seq_cst: as above.
    const std::uintptr_t seen = word.load(std::memory_order_seq_cst);
    if (seen == strand_bits::requested) [[unlikely]] {
        return false;
    }
    if (seen == 0) {
        // release: orders the task's result before a canceller that then finds it ended.
        word.store(strand_bits::ended_blind, std::memory_order_release);
    }
    return true; // 0, or already ended by end_strand after an earlier refusal
}

// end_strand for a gather child, which only its gather (or its deadline) ever cancels: a
// load, and a plain store when the word is 0. A request that lands between the two is lost,
// which is the same as one made just after the end: the gather that made it discards every
// child's result, and a deadline's request is one the work's return overtook (a claim of the
// forwarding slot it overwrites finds the slot empty and the strand ended). False if the
// word was not 0 (a request pending, or a canceller's claim of the slot): the caller then
// ends the strand with end_strand, off this inline path.
inline bool end_child_strand_quickly(strand_word& word) noexcept {
    // acquire: pairs with a request's release, as in end_strand.
    if (word.load(std::memory_order_acquire) != 0) [[unlikely]] {
        return false;
    }
    // release: orders the child's result before a canceller that then finds it ended.
    word.store(strand_bits::ended, std::memory_order_release);
    return true;
}

// The contended halves of the functions below, when a canceller got to the word first.
[[gnu::noinline]] bool publish_target_contended(strand_word& word, cancel_target& target) noexcept;
[[gnu::noinline]] bool leave_target_contended(strand_word& word, cancel_target& target) noexcept;
[[gnu::noinline]] bool take_pending_cancel_contended(strand_word& word) noexcept;

// The strand's own thread, as it suspends on `target` (a withdrawing target publishes
// inside the lock that guards its wait). False if a cancellation was pending: the
// suspension is then already cancelled, and a withdrawing awaiter must not suspend.
// Inline, like the two below: a gather pays each once per node.
inline bool publish_target(strand_word& word, cancel_target& target) noexcept {
    std::uintptr_t idle = 0;
    // release: a canceller that reads the target sees it set up. Nothing to acquire when
    // no request was pending; relaxed on failure, since the contended path reloads.
    if (word.compare_exchange_strong(idle, reinterpret_cast<std::uintptr_t>(&target),
                                     std::memory_order_release, std::memory_order_relaxed)) {
        return true;
    }
    return publish_target_contended(word, target);
}

// The strand's own thread, when the suspension on `target` ends: unpublishes it, first
// waiting out a canceller that holds it. True if the suspension was cancelled.
inline bool leave_target(strand_word& word, cancel_target& target) noexcept {
    auto self = reinterpret_cast<std::uintptr_t>(&target);
    // relaxed: the word still names the target alone, so no canceller claimed it and there
    // is nothing to acquire; relaxed on failure, since the contended path reloads.
    if (word.compare_exchange_strong(self, 0, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
        return false;
    }
    return leave_target_contended(word, target);
}

// publish_target and leave_target for a gather awaited by a strand rooted in a gather child:
// the target goes in the forwarding slot (see the top). The pairing's full fence is an RMW
// of the word, made only while a canceller is armed or the word is not 0.
[[gnu::noinline]] bool publish_forwarding_target_contended(strand_word& word) noexcept;
[[gnu::noinline]] bool leave_forwarding_target_contended(strand_word& word) noexcept;

// `distance` is forwarding_distance(word, target), not 0.
inline bool publish_forwarding_target(strand_word& word, std::int32_t distance) noexcept {
    // release: a canceller that reads the slot sees the target set up.
    forwarding_slot(word).store(distance, std::memory_order_release);
    // The compiler keeps the loads below after the store; the hardware's order is the armed
    // canceller's heavy fence.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    // acquire: a canceller that disarmed (its count's release) made its last claim resolved
    // before, so the word's load sees what the claim left; relaxed for the word, whose order
    // against the slot's store is the fences'. One test for both: the common case.
    if ((armed_cancellers.load(std::memory_order_acquire) | word.load(std::memory_order_relaxed)) ==
        0) {
        return true;
    }
    return publish_forwarding_target_contended(word);
}

inline bool leave_forwarding_target(strand_word& word) noexcept {
    // relaxed: a canceller that reads the emptied slot touches nothing; one that read the
    // target first holds the word claimed, which the look below finds.
    forwarding_slot(word).store(0, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst); // as in publish_forwarding_target
    // acquire and relaxed: as in publish_forwarding_target.
    if ((armed_cancellers.load(std::memory_order_acquire) | word.load(std::memory_order_relaxed)) ==
        0) {
        return false;
    }
    return leave_forwarding_target_contended(word);
}

// The strand's own thread, running, with no target published: consumes a request left
// pending for the next suspension point. A wait that was handed something (a permit, an
// item) calls it as it resumes, so that it can pass that on and end in cancelled_error,
// as asyncio does, instead of carrying on; a task calls it before its first step. True if
// a request was pending.
inline bool take_pending_cancel(strand_word& word) noexcept {
    // relaxed: a request that this load misses is simply one that came after the check,
    // left for the next suspension point; one it sees is consumed with acquire.
    if (word.load(std::memory_order_relaxed) != strand_bits::requested) {
        return false;
    }
    return take_pending_cancel_contended(word);
}

} // namespace weft::detail
