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
// The runtime's own code reads and writes the thread_local directly: it is not a coroutine.
//
// Header code names it inline when g++ compiles it, and through out-of-line calls when clang
// does (inline_thread_locals.hpp).
#pragma once

#include <weft/detail/cancellation.hpp>
#include <weft/detail/inline_thread_locals.hpp>

namespace weft::detail {

// Initial-exec: a library built as position-independent code would otherwise reach it as if
// through __tls_get_addr, which costs each access the registers a call clobbers.
[[gnu::tls_model("initial-exec")]] extern constinit thread_local strand_word* this_thread_strand;

// A task or gather child, as it starts: names its strand, and says whether a cancellation
// pending for it ends it before its first step (not so when `ignores_pending`; see
// promise_base::ignore_pending_cancel_at_ends). Names the thread_local directly: for code
// that cannot carry its address across a suspension (g++'s, and the library's).
inline bool start_strand_here(strand_word& strand, bool ignores_pending) noexcept {
    this_thread_strand = &strand;
    return !ignores_pending && take_pending_cancel(strand);
}

[[gnu::noinline]] void enter_strand_out_of_line(strand_word* strand) noexcept;
[[gnu::noinline]] bool start_strand_out_of_line(strand_word& strand, bool ignores_pending) noexcept;

#if defined(WEFT_DETAIL_INLINE_THREAD_LOCALS)

// Names `strand` (null for none) as the one this thread runs.
inline void enter_strand(strand_word* strand) noexcept {
    this_thread_strand = strand;
}
inline bool start_strand(strand_word& strand, bool ignores_pending) noexcept {
    return start_strand_here(strand, ignores_pending);
}

#else

inline void enter_strand(strand_word* strand) noexcept {
    enter_strand_out_of_line(strand);
}
inline bool start_strand(strand_word& strand, bool ignores_pending) noexcept {
    return start_strand_out_of_line(strand, ignores_pending);
}

#endif

// An awaiter's await_resume: names the strand it kept at its suspension, if any (none when
// it did not suspend, or for a coroutine that is not weft's).
inline void resume_in(strand_word* strand) noexcept {
    if (strand != nullptr) {
        enter_strand(strand);
    }
}

} // namespace weft::detail
