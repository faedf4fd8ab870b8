// The countdown that joins a gather's children. It starts at children + 1: every child
// takes one away when it ends, and the awaiting coroutine gives up the extra one as it
// launches them, so whichever arrives last resumes the awaiter, with no lock and no chance
// of resuming it while children are still being launched. When every child still out is a
// coroutine not yet launched, none can arrive meanwhile, and the extra one goes with a
// plain store instead of an RMW (launch_children).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/scheduler.hpp>

namespace weft::detail {

struct gather_join {

    explicit gather_join(std::size_t children) noexcept : remaining(children + 1) {}

    // True for the last arrival, which then owns resuming `parent`. An arrival that finds
    // the count at 1 is the only party still out: nobody else will touch the count, so it
    // needs no RMW (the second child of a gather whose first ended before it, as on one
    // worker, every time).
    bool arrive() noexcept {
        // acquire: the count reads 1 only once every other party's RMW (or the launching
        // plain store) has written it, and each of them released its child's result.
        if (remaining.load(std::memory_order_acquire) == 1) {
            return true;
        }
        // acq_rel: each arrival releases its child's result; the last one acquires them
        // all (the RMWs form one release sequence) before it resumes the parent.
        return remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
    }

    // A child's arrival by the RMW, once a load has read more than one party out: the
    // parent if this arrival was the last after all, else null.
    std::coroutine_handle<> arrive_counted() noexcept {
        // acq_rel: as in arrive().
        return remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 ? parent
                                                                      : std::coroutine_handle<>();
    }

    // The arrival of coroutine child `self` as it ends; returns what it transfers to: the
    // parent if it was the last; the last child forked, taken back from this worker's fork
    // stack, if only that child is still out (then nobody else can arrive, and this arrival
    // is a plain store); otherwise the newest fork of this worker, which the worker loop
    // would run next, or null (none, or a periodic check due) and the loop takes the step.
    std::coroutine_handle<> arrive_from_child(std::coroutine_handle<> self) noexcept;

    // The first child to fail, in completion order, named by an address its child set can
    // tell it by: a coroutine child's promise, a task or future child's waiter node.
    void record_failure(const void* child) noexcept {
        const void* none = nullptr;
        // relaxed: ordered before this child's arrive(), whose release carries it.
        first_failure.compare_exchange_strong(none, child, std::memory_order_relaxed);
    }

    // The first failed child, or null if none failed.
    const void* failed_child() const noexcept {
        // relaxed: read by the parent after the last arrival synchronised with it.
        return first_failure.load(std::memory_order_relaxed);
    }

    std::atomic<std::size_t> remaining;
    std::atomic<const void*> first_failure{nullptr};
    std::coroutine_handle<> parent;
    // The awaiting coroutine's strand (null if it is not a weft coroutine), where a child's
    // current task and context are found.
    strand_word* parent_strand = nullptr;
    // The worker that launches the children: the thread's worker from enter_join to
    // launch_children, between which lies no suspension; later, where an arrival from
    // another thread finds the parent's runtime (schedule_parent).
    worker* launcher = nullptr;
    // The child launch_children pushed first, the last the launcher pops (null when it
    // forked none); written before the push that publishes it.
    std::coroutine_handle<> last_fork;
};

// Sets `join.launcher` to the thread's worker; throws weft::runtime_error naming `what`
// outside a runtime. Names the thread_local directly: for code that cannot carry its
// address across a suspension (g++'s, and the library's).
inline void enter_join_here(gather_join& join, const char* what) {
    worker* const here = this_thread_worker;
    if (here == nullptr) [[unlikely]] {
        throw_outside_runtime(what);
    }
    join.launcher = here;
}

[[gnu::noinline]] void enter_join_out_of_line(gather_join& join, const char* what);

// enter_join_here, inline where header code may name the thread's worker
// (inline_thread_locals.hpp).
#if defined(WEFT_DETAIL_INLINE_THREAD_LOCALS)
inline void enter_join(gather_join& join, const char* what) {
    enter_join_here(join, what);
}
#else
inline void enter_join(gather_join& join, const char* what) {
    enter_join_out_of_line(join, what);
}
#endif

// Queues `join.parent` on the runtime of the worker that launched the children: the last
// arrival's work when it comes from a task or a future, on any thread.
[[gnu::noinline]] void schedule_parent(gather_join& join) noexcept;

// Starts the children of one join (a gather's, or a deadline's work and watchdog), after
// enter_join. `forks` holds the coroutine children; the first runs at once on this worker
// (symmetric transfer), the others go on its fork stack where idle workers can steal them.
// Returns what the awaiting coroutine transfers to.
[[gnu::noinline]] std::coroutine_handle<>
launch_children(gather_join& join, std::coroutine_handle<>* forks, std::size_t count) noexcept;

// The arrival that finds two parties out, one of them `join.last_fork`, out of line: if
// that fork is still the newest item on this thread's worker's fork stack, takes it back,
// arrives with a plain store and returns it; else arrives as arrive_then_next_fork does.
// Whole, so that the caller keeps no register across the call.
[[gnu::noinline]] std::coroutine_handle<> arrive_taking_last_fork(gather_join& join) noexcept;

// The arrival by the RMW, out of line: the parent if it was the last; else the newest fork
// of this thread's worker (worker::take_newest_fork), so that a gather's children run one
// after the other without a trip through the worker loop each; null if there is none or a
// periodic check is due.
[[gnu::noinline]] std::coroutine_handle<> arrive_then_next_fork(gather_join& join) noexcept;

inline std::coroutine_handle<>
gather_join::arrive_from_child(std::coroutine_handle<> self) noexcept {
    // acquire: as in arrive().
    const std::size_t out = remaining.load(std::memory_order_acquire);
    if (out == 1) {
        return parent;
    }
    if (out == 2 && last_fork != self && last_fork) {
        return arrive_taking_last_fork(*this);
    }
    return arrive_then_next_fork(*this);
}

} // namespace weft::detail
