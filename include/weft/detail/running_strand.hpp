// The strand (cancellation.hpp) the calling thread is running: what current_task() and the
// context variables read to know whose work is under way. A worker clears it before each
// step, so code that is not a weft coroutine reads none, and it is named again:
//   - by a task or gather child as it starts (promise_base::start_awaiter);
//   - by every weft awaiter that suspends a weft coroutine, as it resumes: it kept the
//     strand for cancellation already (resume_in), and whoever resumed the coroutine may
//     have been running another strand on this thread (a gather's awaiter, resumed by the
//     last child's transfer, names the awaiting coroutine's).
// Other symmetric transfers stay in one strand (into and out of a coro awaited inline or a
// generator), and the first child a gather starts names its own.
// The runtime's own code reads it directly (runtime/task/running_strand.hpp).
#pragma once

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

// Out of line, as every access to a thread_local from header code (see scheduler.hpp).
[[gnu::noinline]] void enter_strand(strand_word* strand) noexcept;

// A task or gather child, as it starts: names its strand, and says whether a cancellation
// pending for it ends it before its first step (not so when `ignores_pending`; see
// promise_base::ignore_pending_cancel_at_ends). One call, so every coroutine's start stays
// small.
[[gnu::noinline]] bool start_strand(strand_word& strand, bool ignores_pending) noexcept;

// An awaiter's await_resume: names the strand it kept at its suspension, if any (none when
// it did not suspend, or for a coroutine that is not weft's).
inline void resume_in(strand_word* strand) noexcept {
    if (strand != nullptr) {
        enter_strand(strand);
    }
}

} // namespace weft::detail
