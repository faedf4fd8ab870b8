// The runtime's pool of threads for blocking calls (weft::to_thread). Worker threads never
// run a blocking call; pool threads never run a coroutine step.
//
// One mutex guards everything here: the FIFO of calls waiting for a thread, the list of
// threads, and the count of idle ones. A submit hands its call to an idle thread, counting
// that thread claimed so that two submits never count on the same one; with none idle it
// starts a thread if the cap allows; otherwise the call waits in the queue. So every
// queued call has a thread coming for it: a claimed idle thread, a new one, or a busy one,
// which looks at the queue whenever it finishes a call. A thread that finds the queue
// empty after a call counts itself idle before it wakes the call's awaiter, so a coroutine
// calling to_thread in a loop keeps using one thread. A thread idle for the keep-alive
// (real time) without being claimed ends.
//
// In virtual time the pool counts the calls it holds, queued or running, and the runtime's
// clock stands still while there are any (runtime::advance_virtual_time); the pool tells
// its calls_listener when the last one goes, and the runtime wakes an idle worker so that
// the clock can move on. The pool knows its runtime only through that interface.
//
// Shutdown (runtime::run_main): close() drops the calls not started yet (each awaiter
// still waiting gets weft::runtime_error) and refuses later ones; shut_down() waits for the
// calls running to return and joins every thread. A thread that ends cannot join itself:
// it leaves its std::thread for the next thread to end, or for shut_down, to join.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <list>
#include <mutex>
#include <thread>

#include <weft/detail/blocking_call.hpp>
#include <weft/runtime_stats.hpp>

namespace weft::detail {

// What a pool in virtual time asks of its runtime (scheduler/runtime.hpp implements it).
class blocking_calls_listener {
public:
    // The pool holds no call any more: the clock, stopped while it held one, may move on.
    virtual void blocking_calls_drained() noexcept = 0;

protected:
    ~blocking_calls_listener() = default;
};

class blocking_pool {
public:
    // `virtual_time_listener`: the runtime in virtual time, null in real time.
    // `report_after`: how long shut_down waits for running calls before it says on stderr
    // that it is still waiting.
    blocking_pool(blocking_calls_listener* virtual_time_listener, std::size_t max_threads,
                  std::chrono::nanoseconds keep_alive,
                  std::chrono::nanoseconds report_after) noexcept;
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;
    ~blocking_pool() { shut_down(); }

    // Any thread: queues `job`, taking a reference to it, and makes sure a thread comes for
    // it. After close() the job is refused at once.
    void submit(blocking_job& job) noexcept;
    // Drops the queued calls and refuses later ones; the calls running go on.
    void close() noexcept;
    // close(), then waits for every running call to return and joins every thread.
    void shut_down() noexcept;

    blocking_pool_stats stats();

    // Virtual time only (always false otherwise): whether the pool holds a call.
    bool calls_in_flight() const noexcept {
        // seq_cst: read by the last worker going idle after its enter_sleep RMW; with the
        // pool's seq_cst decrement before it looks for a sleeper (let_go), one of the two
        // sees the other, so the clock never stays stopped with nobody to move it.
        return in_flight_.load(std::memory_order_seq_cst) != 0;
    }

private:
    using thread_list = std::list<std::thread>;

    // Under the lock. Null on success, else why the thread could not start.
    std::exception_ptr start_thread() noexcept;
    // A pool thread's life: run queued calls, wait idle, end.
    void work(thread_list::iterator self) noexcept;
    // Under the lock, on a pool thread counted in idle_: waits until a submit claims it
    // (true), or until it should end, the keep-alive over or the pool closed (false).
    bool wait_for_call(std::unique_lock<std::mutex>& lock);
    // Under the lock, last thing a pool thread does; releases the lock.
    void leave(std::unique_lock<std::mutex>& lock, thread_list::iterator self) noexcept;

    void push(blocking_job& job) noexcept;
    blocking_job* pop() noexcept;
    // Fails a call the pool will not run, then lets go of it.
    void refuse(blocking_job& job, const std::exception_ptr& error) noexcept;
    // Drops the pool's reference to a call it is done with (run, skipped or refused).
    void let_go(blocking_job& job) noexcept;

    blocking_calls_listener* const virtual_time_listener_;
    const std::size_t max_threads_;
    const std::chrono::nanoseconds keep_alive_;
    const std::chrono::nanoseconds report_after_;

    std::mutex mutex_;
    std::condition_variable call_queued_;
    std::condition_variable thread_ended_;
    blocking_job* head_ = nullptr;
    blocking_job* tail_ = nullptr;
    std::size_t queued_ = 0;
    thread_list threads_;
    std::thread ended_;       // the last thread that ended, not joined yet
    std::size_t idle_ = 0;    // idle threads no submit has claimed
    std::size_t claimed_ = 0; // idle threads claimed by a submit that have not woken yet
    std::uint64_t started_ = 0;
    std::uint64_t retired_ = 0;
    bool closed_ = false;
    std::atomic<std::size_t> in_flight_{0}; // virtual time only
};

// The blocking pool of `target`. Defined by the scheduler, which owns the runtime
// (scheduler/layer_hooks.cpp).
blocking_pool& blocking_pool_of(runtime& target) noexcept;

} // namespace weft::detail
