// One worker thread: its queues, its timers, its parker and its loop.
//
// A worker runs, in order of preference: every 61st step the injector (so outside work
// is never starved), every 31st step its FIFO queue, otherwise its fork stack (newest
// gather child first), its FIFO queue, the injector; with all of those empty it searches
// (steals from other workers; at most half the awake workers, rounded up, search at once) and
// finally parks (worker_parking.cpp). Only the owning thread pushes to or pops from its
// queues; other threads steal. While sockets are open, every 53rd step also polls the
// reactor without blocking, and a worker that parks while nobody else sleeps in the
// reactor's poll parks there (reactor.hpp), so sockets and timers share one sleep. A step
// resumes one coroutine, then every coroutine handed the thread through the trampoline
// during the step (detail/symmetric_transfer.hpp), before the loop looks for other work.
// (The intervals are named, with their reasons, in worker.cpp.)
//
// The worker is the waker (task/waker.hpp) of its timer driver and of the reactor polls it
// makes: the lower layers queue the tasks they wake through it, never through the worker.
//
// A task that ends here but was registered by another worker leaves the registry with a
// batch of others (unregister_later), which the loop empties whenever it runs out of local
// work, at the injector's periodic check and as it ends.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/runtime_stats.hpp>

#include "io/io_budget.hpp"
#include "park/parker.hpp"
#include "scheduler/fork_deque.hpp"
#include "scheduler/idle.hpp"
#include "scheduler/local_queue.hpp"
#include "task/waker.hpp"
#include "time/timer_driver.hpp"

namespace weft::detail {

class runtime;

class worker final : public waker {
public:
    // Worker `id` of the `workers` that `owner` runs.
    worker(runtime& owner, std::size_t id, std::size_t workers) noexcept;

    // The worker running on this thread, or nullptr. Out of line: see scheduler.hpp.
    [[gnu::noinline]] static worker* current() noexcept;
    // current() inline, for the runtime's own functions that are not coroutines and are
    // never inlined into one: a coroutine resumed on another thread may reuse the address
    // of the thread-local it read before (include/weft/detail/scheduler.hpp).
    static worker* on_this_thread() noexcept { return this_thread_worker; }

    runtime& owner() const noexcept { return home(); }
    std::size_t id() const noexcept { return id_; }

    // Runs until the runtime stops. Called on the worker's own thread.
    void run();
    // Runs until the runtime stops or `leave` is set (worker 0, which drives shutdown).
    void run_until(const std::atomic<bool>& leave);

    // Owner thread only.
    void push_ready(std::coroutine_handle<> handle) {
        ready.push(handle, overflow_);
        notify_others();
    }
    // The waker, for a timer that fired or a socket the reactor saw ready, on the owner
    // thread: queues without waking another worker, because the caller (fire_due_timers,
    // a poll) wakes one once for the whole batch, and a lone woken task is best run by this
    // worker, which is about to look for work anyway.
    void wake(std::coroutine_handle<> handle) noexcept override;
    // Owner thread only: gather children onto the fork stack (fork_deque::push's order).
    void push_forks(std::coroutine_handle<>* handles, std::size_t count);
    // push_forks of one child, inline: the one fork of a gather of two.
    void push_fork(std::coroutine_handle<> handle) {
        forks.push_one(handle);
        notify_others();
    }
    // push_fork() in two halves, for a caller whose fast path makes no call: the first
    // pushes if the stack has room and says whether the second, which calls, is needed.
    enum class fork_push : std::uint8_t { done, notice_wanted, full };
    fork_push push_fork_without_call(std::coroutine_handle<> handle) noexcept {
        if (!forks.push_one_if_room(handle)) [[unlikely]] {
            return fork_push::full;
        }
        return wants_notice() ? fork_push::notice_wanted : fork_push::done;
    }
    void finish_push_fork(std::coroutine_handle<> handle, fork_push state) {
        if (state == fork_push::full) {
            push_fork(handle);
        } else if (state == fork_push::notice_wanted) {
            notify_peers();
        }
    }
    // Owner thread only: takes `fork` back from the fork stack if it is the newest item, to
    // run it next as a continuation of the running step. Counted as a step, so the periodic
    // checks keep their pace; refused when one is due, so that the loop makes it first.
    bool take_fork(std::coroutine_handle<> fork) noexcept {
        if (periodic_check_due() || !forks.pop_if(fork)) {
            return false;
        }
        count_step_taken_inline();
        return true;
    }
    // Owner thread only: the newest fork, to run next as a continuation of the running step
    // (a gather child that ended, not the last of its join, goes on with what the loop would
    // pop next); null if there is none. Counted as a step and refused when a periodic check
    // is due, as take_fork is.
    std::coroutine_handle<> take_newest_fork() noexcept {
        if (periodic_check_due()) {
            return {};
        }
        const std::coroutine_handle<> next = forks.pop();
        if (next) {
            count_step_taken_inline();
        }
        return next;
    }
    // Owner thread only. If `suspending` is the coroutine this loop resumed last and no
    // handle is parked yet, parks `next` to be resumed as soon as `suspending` has
    // suspended (the trampoline, symmetric_transfer.hpp); else false.
    bool defer_resume(std::coroutine_handle<> suspending, std::coroutine_handle<> next) noexcept {
        if (suspending != resumed_ || resume_next_) {
            return false;
        }
        resume_next_ = next;
        return true;
    }

    // Owner thread only: `task` ended on this worker but is registered in another worker's
    // shard (task_registry.hpp). It stays listed, with its running reference, until this
    // worker unregisters it with others: when the batch is full or holds another shard's
    // tasks, when the loop runs out of local work, at the injector's periodic check, and as
    // the loop ends.
    void unregister_later(frame_header* task) noexcept {
        // A loop: what a released frame's destructors do may refill the batch.
        while (departed_count_ == departed_.size() ||
               (departed_count_ != 0 && departed_shard_ != task->registry_shard)) {
            unregister_departed();
        }
        departed_shard_ = task->registry_shard;
        departed_[departed_count_++] = task;
    }

    worker_stats stats() const noexcept;

    // Spends one unit of the running step's socket budget (io/io_budget.hpp); true if none
    // was left, after polling the reactor, so that what became ready is queued ahead of the
    // task that now yields. Owner thread only.
    bool spend_io_budget() noexcept {
        if (io_budget_ != 0) {
            --io_budget_;
            return false;
        }
        poll_io();
        return true;
    }

    // Shared with thieves and with the parking protocol.
    local_queue ready;
    fork_deque forks;
    parker sleeper;
    // This worker's timers; other threads cancel from it, and in virtual time the worker
    // that moves the clock reads its published deadline.
    timer_driver timers;

private:
    std::coroutine_handle<> next_local();
    // The timer, reactor, injector and FIFO checks due on this step; what to run, if any.
    std::coroutine_handle<> periodic_checks();
    std::coroutine_handle<> pop_injector();
    std::coroutine_handle<> search();
    std::coroutine_handle<> steal_once();
    // Fires every timer whose deadline has come; true if any fired.
    bool fire_due_timers();
    // Unlinks the batch of unregister_later from its shard, then drops each task's running
    // reference.
    void unregister_departed() noexcept;
    void stop_searching();
    // Before a steal from a fork stack: arms this worker as a thief (armed_thieves.hpp)
    // unless it is armed; false if it could not be, and it must not steal a fork.
    bool arm() noexcept;
    // Gives up being armed, if it was.
    void disarm() noexcept;
    // After queuing work on this worker: lets an idle worker come and steal it. The common
    // answer, nobody to wake (all awake, or one already searching), is one inline load.
    void notify_others() {
        if (wants_notice()) {
            notify_peers();
        }
    }
    // Whether notify_others() would wake a sleeper.
    bool wants_notice() const noexcept { return peers_ != nullptr && peers_->wants_a_wake(); }
    // notify_others() once a sleeper may need waking.
    void notify_peers();
    bool leave_requested() const noexcept {
        // seq_cst: read in the parking re-check, like stopping(); see runtime::drain.
        return leave_ != nullptr && leave_->load(std::memory_order_seq_cst);
    }
    // Parking, in worker_parking.cpp: after the re-check, sleeps until woken or until the
    // next timer is due, in the reactor's poll if this worker takes the driver role.
    void park();
    // park() while holding the reactor's driver role: sleeps in its poll.
    void park_polling(bool nobody_awake);
    // Virtual time, before sleeping: time moves only when every worker is idle, so the last
    // one to sleep (`nobody_awake`) moves it to the earliest deadline and wakes the worker
    // whose timer that is. True if that is this worker, which then stays awake.
    bool move_virtual_clock(bool nobody_awake);
    // Sleeps in the reactor's poll until `deadline` at most, dispatches what it saw and stops
    // driving; then awake again (searching if a producer woke it). True if it has something
    // to do: it was woken, or it woke tasks.
    bool poll_until(std::uint64_t deadline);
    // Polls the reactor without blocking if sockets are open and nobody drives it.
    void poll_io();
    void sleep_until_woken();
    // Spins until CLOCK_MONOTONIC reaches `deadline`, or work or a stop arrives.
    void spin_until(std::uint64_t deadline);
    // After a late re-check or a timeout: back to awake, unless a producer claimed us.
    void leave_sleep_or_take_wake_up();
    // Whether the next step is one a periodic check is due on, which the loop must take.
    bool periodic_check_due() const noexcept { return tick_ + 1 == next_periodic_tick_; }
    // A step a coroutine took itself (take_fork, take_newest_fork), counted as the loop counts
    // its own.
    void count_step_taken_inline() noexcept {
        ++tick_;
        count(tasks_run_);
    }
    static void count(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
        // relaxed: one writer; readers only want an eventually current snapshot.
        counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }

    const std::size_t id_;
    // The runtime's idle counts, or null when there are no other workers to notify of
    // queued work: a lone worker finds what it queued itself.
    const idle* const peers_;
    // The runtime's injector, where a full FIFO queue moves half of itself.
    injector& overflow_;
    bool searching_ = false;
    // The runtime's count of armed thieves, or null when the fork stacks always fence (one
    // worker, or no heavy fence); whether this worker is counted in it, and whether it stole
    // a fork since the last injector check, when an armed worker that did not disarms.
    armed_thieves* const arming_;
    bool armed_ = false;
    bool stole_fork_ = false;
    const std::atomic<bool>* leave_ = nullptr;
    // Steps taken, the step each periodic check is next due on (the intervals are in
    // worker.cpp), and the earliest of those.
    std::uint64_t tick_ = 0;
    std::uint64_t timer_check_tick_;
    std::uint64_t io_poll_tick_;
    std::uint64_t injector_check_tick_;
    std::uint64_t fifo_check_tick_;
    std::uint64_t next_periodic_tick_;
    // Socket operations the running step may still make (io/io_budget.hpp).
    std::uint32_t io_budget_ = io_operations_per_step;
    std::uint64_t random_;
    std::atomic<std::uint64_t> tasks_run_{0};
    std::atomic<std::uint64_t> tasks_stolen_{0};
    std::atomic<std::uint64_t> parks_{0};
    // The trampoline: the coroutine run() resumed last, and the slot defer_resume fills
    // while it runs and run() empties before the step ends. The slot stays empty
    // where the compiler makes symmetric transfer a tail call.
    std::coroutine_handle<> resumed_;
    std::coroutine_handle<> resume_next_;
    // Tasks of another worker's shard that ended here, not unregistered yet (all of shard
    // departed_shard_). 64: the shard's lock and line move once per 64 tasks, and the
    // batch's frames stay small beside what a worker's queues hold.
    std::array<frame_header*, 64> departed_{};
    std::size_t departed_count_ = 0;
    std::uint16_t departed_shard_ = 0;
    // Handles taken from the injector at once: half the FIFO queue, the size of the batches a
    // full queue moves there, so a burst of spawns goes through the injector's lock once per
    // 128 tasks each way. They land here, a member, so that no pop zeroes an array first.
    static constexpr std::size_t injector_batch = local_queue::capacity / 2;
    std::array<std::coroutine_handle<>, injector_batch> from_injector_;
};

} // namespace weft::detail
