// One worker thread: its queues, its parker and its loop.
//
// A worker runs, in order of preference: every 61st step the injector (so outside work
// is never starved), every 31st step its FIFO queue, otherwise its fork stack (newest
// gather child first), its FIFO queue, the injector; with all of those empty it searches
// (steals from other workers; at most half the awake workers, rounded up, search at once) and
// finally parks. Only the owning thread pushes to or pops from its queues; other threads steal.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include <weft/runtime_stats.hpp>

#include "fork_deque.hpp"
#include "local_queue.hpp"
#include "parker.hpp"

namespace weft::detail {

class scheduler;

class worker {
public:
    worker(scheduler& owner, std::size_t id) noexcept;

    // The worker running on this thread, or nullptr. Out of line: see scheduler.hpp.
    [[gnu::noinline]] static worker* current() noexcept;

    scheduler& owner() const noexcept { return owner_; }
    std::size_t id() const noexcept { return id_; }

    // Runs until the runtime stops. Called on the worker's own thread.
    void run();

    // Owner thread only.
    void push_ready(std::coroutine_handle<> handle);
    void push_forks(std::coroutine_handle<>* handles, std::size_t count);

    worker_stats stats() const noexcept;

    // Shared with thieves and with the parking protocol.
    local_queue ready;
    fork_deque forks;
    parker sleeper;

private:
    std::coroutine_handle<> next_local();
    std::coroutine_handle<> pop_injector();
    std::coroutine_handle<> search();
    std::coroutine_handle<> steal_once();
    void stop_searching();
    // After queuing work on this worker: lets an idle worker come and steal it.
    void notify_others();
    void park();
    static void count(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
        // relaxed: one writer; readers only want an eventually current snapshot.
        counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }

    scheduler& owner_;
    const std::size_t id_;
    bool searching_ = false;
    std::uint32_t tick_ = 0;
    std::uint64_t random_;
    std::atomic<std::uint64_t> tasks_run_{0};
    std::atomic<std::uint64_t> tasks_stolen_{0};
    std::atomic<std::uint64_t> parks_{0};
};

} // namespace weft::detail
