// The task_done()/join() half of a weft queue (asyncio.Queue's unfinished_tasks): how many
// items were put and not yet marked done, and the tasks waiting for that to reach zero.
//
// Invariants: the count only reaches zero inside the joiners' lock, and the joiners present
// then are woken in the same critical section; a joiner reads the count inside that lock
// before linking itself. So a join() that began while items were unfinished returns at the
// first moment none is, never earlier (a put after that moment does not hold it back, and
// one before it is waited for), and never misses that moment.
#pragma once

#include <atomic>
#include <cstddef>

#include <weft/detail/wait_queue.hpp>

namespace weft::detail {

class queue_join {
public:
    queue_join() = default;
    queue_join(const queue_join&) = delete;
    queue_join& operator=(const queue_join&) = delete;

    // An item entered the queue.
    void add_one() noexcept {
        // relaxed: the item reaches its consumer through the queue's lock and the scheduling
        // of its waiter, which order this before the consumer's task_done.
        count_.fetch_add(1, std::memory_order_relaxed);
    }
    // `done` items were processed (or dropped). False, changing nothing, if fewer than that
    // are unfinished.
    bool finish(std::size_t done) noexcept;

    std::size_t unfinished() const noexcept {
        // acquire: pairs with finish's release, like a join that returns.
        return count_.load(std::memory_order_acquire);
    }

    using awaiter = queue_awaiter<queue_join>;
    awaiter wait() noexcept { return {*this, "weft::queue::join"}; }

private:
    template <class, bool>
    friend class queue_awaiter;

    bool ready_at_once() const noexcept { return unfinished() == 0; }
    bool begin_wait(queued_waiter& waiter) noexcept;

    std::atomic<std::size_t> count_{0};
    wait_queue joiners_;
};

} // namespace weft::detail
