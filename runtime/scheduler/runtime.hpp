// The runtime behind a weft::runner (and so behind each weft::run call): its workers and
// threads, the injection queue, the idle bookkeeping, the registry of pending tasks, the
// blocking pool and the gate of its runtime_handles. The runner owns it; start() launches
// workers 1..n-1 on threads of their own, which run until shut_down(); worker 0 is the
// thread in run_main or shut_down, whichever thread that is, one at a time.
//
// A run: run_main launches main on worker 0 and runs worker 0 until main ends, then
// returns; the tasks still pending stay, and the other workers keep running them (worker 0
// runs nothing until the next run_main or shut_down, so what waits on its timers waits for
// that). Shutdown (shut_down): worker 0 closes the gate (handles refuse new work from then
// on) and drains: it cancels every task still pending, then works on with the others until
// the registry is empty or the shutdown grace has passed; if they all ended, it closes the
// generators still suspended (each in a task, asyncio's shutdown_asyncgens) and works on
// until those tasks end, or a new grace. Then the blocking pool drops the calls not started,
// and stop() raises `stopping_` and wakes every worker; each finishes the step it is running
// and leaves its loop. After the threads are joined, teardown() closes the injector, forgets
// every queued handle and destroys every task still registered (those that outlived the
// grace, reported on stderr); destroying a task's frame destroys everything it owns
// (awaited coroutines, gather children) and unlinks its awaiters from what they waited on.
// Last, it waits for the blocking calls still running and joins the pool's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <weft/clock.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/run.hpp>

#include "blocking/blocking_pool.hpp"
#include "io/reactor.hpp"
#include "io/signal_source.hpp"
#include "scheduler/armed_thieves.hpp"
#include "scheduler/generator_registry.hpp"
#include "scheduler/idle.hpp"
#include "scheduler/injector.hpp"
#include "scheduler/runtime_gate.hpp"
#include "scheduler/task_registry.hpp"
#include "scheduler/worker.hpp"
#include "time/clock.hpp"

namespace weft::detail {

class runtime final : public blocking_calls_listener {
public:
    // `name` (weft::run, weft::runner) heads what it reports on stderr.
    runtime(std::size_t workers, const run_options& options, const char* name = "weft::run");
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime();

    // Starts the threads of workers 1..n-1. On failure, stops and joins those started and
    // rethrows.
    void start();
    // Launches `main` (a frame whose one reference the caller holds) on worker 0 and runs
    // worker 0 on this thread until main has ended. Only one thread at a time, and none
    // during shut_down.
    void run_main(frame_header* main, std::coroutine_handle<> handle);
    // Cancels and drains the pending tasks, closes the suspended generators, stops and joins
    // the workers and tears down, with worker 0 on this thread. Once, after start().
    void shut_down();

    // The one way a task starts (create_task, a runtime_handle, generator finalizers; a
    // run's main is queued the same way, without the notify, by run_main): gives the new
    // task `references` (the running coroutine's, plus one for a task handle if the
    // launcher keeps one), registers it in the shard of `launcher` and queues its first
    // step on launcher's FIFO queue. `launcher` is the calling thread's worker (worker 0
    // for main, before the other threads start); without one (a thread that is none of
    // this runtime's workers) the task joins the registry's outside shard and the injector.
    void launch(frame_header* header, std::coroutine_handle<> handle, std::uint32_t references,
                worker* launcher);

    std::size_t worker_count() const noexcept { return workers_.size(); }
    worker& worker_at(std::size_t index) noexcept { return *workers_[index]; }
    // Accessors are named for what they return; the types are qualified because each
    // name now also names its accessor.
    detail::injector& injector() noexcept { return injector_; }
    detail::idle& idle() noexcept { return idle_; }
    // The count of thieves armed to steal from fork stacks (armed_thieves.hpp).
    armed_thieves& thieves() noexcept { return thieves_; }
    task_registry& registry() noexcept { return registry_; }
    // The generators started here and not finished (generator_registry.hpp).
    generator_registry& generators() noexcept { return generators_; }
    // The I/O reactor the workers poll (reactor.hpp).
    detail::reactor& reactor() noexcept { return reactor_; }
    // The signals tasks may wait for (run_options::signals).
    signal_source& signals() noexcept { return signals_; }
    // The signals the workers block: those, and SIGINT for interrupt_cancels_main. A thread
    // that acts as worker 0 must block them too, or it could take one the signalfd should.
    const std::vector<int>& watched_signals() const noexcept { return watched_; }
    blocking_pool& blocking() noexcept { return blocking_; }
    // The gate every runtime_handle of this runtime shares.
    std::shared_ptr<runtime_gate> gate() const noexcept { return gate_; }

    bool virtual_time() const noexcept { return virtual_time_; }
    const std::function<void(std::exception_ptr)>& exception_handler() const noexcept {
        return exception_handler_;
    }
    // The runtime's time in nanoseconds: CLOCK_MONOTONIC, or the virtual clock.
    std::uint64_t now_ns() const noexcept {
        // acquire: pairs with advance_virtual_time's release; see there.
        return virtual_time_ ? virtual_now_.load(std::memory_order_acquire) : monotonic_ns();
    }
    // Virtual time, called by the last worker to go idle: moves the clock to the earliest
    // deadline of any worker's wheel and returns that worker, or nothing if no timer is
    // pending before clock_end_ns (the clock stops short of its end, which never comes). Time
    // stands still while the blocking pool holds a call (as Tokio's paused clock does for
    // spawn_blocking): a call runs in real time, and a deadline around it must not pass just
    // because the workers wait for it.
    std::optional<std::size_t> advance_virtual_time() noexcept;
    // Wakes sleeping worker `id` so that it fires its due timers.
    void wake_worker(std::size_t id);

    bool stopping() const noexcept {
        // seq_cst: read in the parking re-check, in the same order as the queues.
        return stopping_.load(std::memory_order_seq_cst);
    }
    void stop() noexcept;

    // Called by complete_task after unregistering a task: during the drain, the last task
    // to end lets worker 0 finish it.
    void task_ended() {
        if (draining() && registry_.empty()) {
            end_drain();
        }
    }
    bool draining() const noexcept {
        // seq_cst: see drain().
        return draining_.load(std::memory_order_seq_cst);
    }

    // From a thread that is not one of this runtime's workers.
    void inject(std::coroutine_handle<> handle);
    // After queuing work: wakes a sleeping worker if nobody is searching.
    void notify_work();
    // Whether any queue holds work, as seen by a worker about to sleep.
    bool has_visible_work() const noexcept;
    // Virtual time: the blocking pool let go of its last call, so the clock may move on;
    // a sleeping worker wakes to move it.
    void blocking_calls_drained() noexcept override { notify_work(); }

private:
    // A timer in worker 0's wheel that ends the drain when the grace has passed.
    struct drain_deadline : timer_entry {
        runtime* owner = nullptr;
    };

    void drain();
    // Runs worker 0 until every task has ended or a grace has passed; false, after
    // reporting them, if some are still pending.
    bool wait_for_tasks();
    void end_drain();
    // Stops every worker and joins the threads of those that had started.
    void stop_and_join() noexcept;
    void teardown();
    // run_options::interrupt_cancels_main: the driver, for a SIGINT no task waited for.
    static void on_interrupt(void* self) noexcept;

    // First, so destroyed last: tearing down a task closes the sockets it holds.
    detail::reactor reactor_;
    const std::vector<int> watched_;
    // Made on the runner's thread before the workers start, so they inherit its signal
    // mask; the runner gives each thread it uses its own mask back (runner.cpp).
    signal_source signals_;
    // The running main, for the interrupt, or null between runs; with the SIGINTs handed
    // to on_interrupt during this run. Under main_mutex_: the driver that calls on_interrupt
    // may be any worker, and run_main lets go of main's frame after clearing main_.
    std::mutex main_mutex_;
    frame_header* main_ = nullptr;
    unsigned interrupts_ = 0;
    // Before the workers, whose fork stacks read it.
    armed_thieves thieves_;
    std::vector<std::unique_ptr<worker>> workers_;
    detail::injector injector_;
    detail::idle idle_;
    task_registry registry_;
    // Outlives teardown(), where a straggler's frame lets go of the generators it holds.
    generator_registry generators_{*this};
    std::atomic<bool> stopping_{false};
    // Shutdown's phases, each a flag worker 0 leaves its loop on (see drain()).
    std::atomic<bool> main_done_{false};
    std::atomic<bool> draining_{false};
    std::atomic<bool> drain_over_{false};
    drain_deadline drain_deadline_;
    const std::chrono::nanoseconds shutdown_grace_;
    const char* const name_;
    const std::function<void(std::exception_ptr)> exception_handler_;
    const bool virtual_time_;
    std::atomic<std::uint64_t> virtual_now_{0};
    std::vector<std::thread> threads_;
    // After the queues and idle state its threads reach, so destroyed before them (its
    // threads are joined by teardown, and the destructor only makes sure of it).
    blocking_pool blocking_;
    const std::shared_ptr<runtime_gate> gate_;
};

// Inline: every create_task goes through it, and a call across files costs the
// spawn path a dozen instructions.
inline void runtime::launch(frame_header* header, std::coroutine_handle<> handle,
                            std::uint32_t references, worker* launcher) {
    // The frame is not shared yet; queuing it (a release, or for main the creation of the
    // other threads) publishes the count.
    header->set_references(references);
    registry_.add(header, launcher != nullptr ? launcher->id() : registry_.outside_shard());
    if (launcher != nullptr) {
        launcher->push_ready(handle);
    } else {
        inject(handle);
    }
}

} // namespace weft::detail
