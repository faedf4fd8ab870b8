// weft::barrier: a fixed number of tasks meet, and none goes on until all have arrived
// (asyncio.Barrier).
//
//     weft::barrier stage(3);
//     // in each of three tasks:
//     std::size_t index = co_await stage.wait();   // 0, 1, 2 in the order they arrived
//     if (index == 0) { ... }                      // one of them, chosen by its index
//
// The barrier fills: each wait() takes the next index and suspends, until the last party
// arrives and releases them all. The barrier then drains: tasks arriving meanwhile wait
// until every released task has left, and the next round fills from index 0. reset() sends
// the tasks waiting at it away with broken_barrier_error and lets the barrier fill again
// once they have left; abort() breaks it, so every wait, now and later, throws
// broken_barrier_error until reset(). A task cancelled while waiting for the others leaves
// (cancelled_error) and the barrier fills on without it; one cancelled while held back by
// a drain or reset never arrived. One cancelled after the release is still released: the
// cancellation reaches it at its next suspension. Any thread may call every member; reset
// and abort do not suspend (asyncio's are coroutines only for their lock). A barrier must
// outlive its waiters; it is neither copied nor moved.
#pragma once

#include <cstddef>

#include <weft/coro.hpp>
#include <weft/detail/wait_queue.hpp>

namespace weft {

class barrier {
public:
    // Throws weft::invalid_argument if `parties` is 0.
    explicit barrier(std::size_t parties);
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    // co_await b.wait(): suspends until `parties()` tasks wait, then yields this task's
    // arrival index, 0 to parties() - 1. Throws broken_barrier_error if the barrier is
    // broken, or is reset or aborted while the task waits.
    coro<std::size_t> wait();

    // Sends the waiting tasks away with broken_barrier_error and empties the barrier; a
    // broken barrier becomes usable again.
    void reset() noexcept;
    // Breaks the barrier: waiting tasks, and every later wait(), get broken_barrier_error.
    void abort() noexcept;

    // How many tasks must wait together.
    std::size_t parties() const noexcept { return parties_; }
    // How many tasks wait for the barrier to fill; 0 while it drains, resets or is broken.
    std::size_t n_waiting() noexcept;
    // Whether abort() broke it (and no reset() has mended it).
    bool broken() noexcept;

private:
    enum class phase { filling, draining, resetting, broken };

    // The two waits inside wait(): to be let in (while the barrier drains or resets), and
    // to be released (while it fills). Each is a wait queue primitive (see
    // detail/wait_queue.hpp) whose wait ends at once when its state is reached.
    class admission;
    class release;

    // Under the lock: a task leaves the barrier; the last one out ends a drain or reset.
    void leave() noexcept;
    // Under the lock: wakes every waiter to look at the new phase.
    void wake_all() noexcept;

    const std::size_t parties_;
    phase phase_ = phase::filling;
    std::size_t inside_ = 0; // tasks that took an index and have not left
    detail::wait_queue waiters_;
};

} // namespace weft
