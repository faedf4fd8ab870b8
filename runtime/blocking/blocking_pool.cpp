// The blocking pool's threads and queue; see blocking_pool.hpp for the protocol. Every
// field is read and written under mutex_; the calls themselves run outside it.
#include "blocking/blocking_pool.hpp"

#include <cstdio>

#include <weft/errors.hpp>

namespace weft::detail {
namespace {

// `after` from now on the steady clock, saturating instead of overflowing for a huge one.
std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds after) noexcept {
    const auto now = std::chrono::steady_clock::now();
    const auto room = std::chrono::steady_clock::time_point::max() - now;
    return after >= room
               ? std::chrono::steady_clock::time_point::max()
               : now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(after);
}

void report_still_running(std::size_t calls, std::chrono::nanoseconds waited) {
    std::fprintf(stderr,
                 "weft::run: %zu blocking call%s still running %.3f s after shutdown; waiting "
                 "for %s to return\n",
                 calls, calls == 1 ? " is" : "s are", std::chrono::duration<double>(waited).count(),
                 calls == 1 ? "it" : "them");
}

std::exception_ptr shut_down_error() noexcept {
    return std::make_exception_ptr(
        runtime_error("weft::to_thread: the runtime shut down before the call started"));
}

} // namespace

void submit_blocking(runtime& target, blocking_job& job) noexcept {
    job.context = current_context();
    blocking_pool_of(target).submit(job);
}

blocking_pool::blocking_pool(blocking_calls_listener* virtual_time_listener,
                             std::size_t max_threads, std::chrono::nanoseconds keep_alive,
                             std::chrono::nanoseconds report_after) noexcept
    : virtual_time_listener_(virtual_time_listener), max_threads_(max_threads),
      keep_alive_(keep_alive), report_after_(report_after) {}

void blocking_pool::submit(blocking_job& job) noexcept {
    job.retain();
    if (virtual_time_listener_ != nullptr) {
        // seq_cst: before the submitting worker's own enter_sleep, so the last worker to go
        // idle sees it (see calls_in_flight).
        in_flight_.fetch_add(1, std::memory_order_seq_cst);
    }
    std::unique_lock lock(mutex_);
    if (closed_) {
        lock.unlock();
        refuse(job, shut_down_error());
        return;
    }
    if (idle_ > 0) {
        --idle_;
        ++claimed_;
        push(job);
        lock.unlock();
        call_queued_.notify_one();
        return;
    }
    if (threads_.size() < max_threads_) {
        // If it fails while other threads exist, one of them takes the call when it is free.
        if (const std::exception_ptr failure = start_thread(); failure && threads_.empty()) {
            lock.unlock();
            refuse(job, failure);
            return;
        }
    }
    push(job);
}

std::exception_ptr blocking_pool::start_thread() noexcept {
    try {
        const thread_list::iterator self = threads_.emplace(threads_.end());
        try {
            // The new thread first takes the lock, which this thread holds until the call
            // is queued, so it finds the call and its own list entry in place.
            *self = std::thread([this, self] { work(self); });
        } catch (...) {
            threads_.erase(self);
            throw;
        }
        ++started_;
        return nullptr;
    } catch (...) {
        return std::current_exception();
    }
}

void blocking_pool::work(thread_list::iterator self) noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
        blocking_job* job = pop();
        if (job == nullptr) {
            if (closed_) {
                break;
            }
            ++idle_;
            if (!wait_for_call(lock)) {
                break;
            }
            continue;
        }
        lock.unlock();
        const bool runs = job->claim();
        if (runs) {
            const thread_context_scope caller_context(std::move(job->context));
            job->invoke();
        }
        lock.lock();
        // Idle before the awaiter wakes: a coroutine that calls to_thread in a loop then
        // finds this thread for its next call instead of starting another.
        const bool idle_early = runs && head_ == nullptr && !closed_;
        if (idle_early) {
            ++idle_;
        }
        lock.unlock();
        if (runs) {
            job->finish();
        }
        let_go(*job);
        lock.lock();
        if (idle_early && !wait_for_call(lock)) {
            break;
        }
    }
    leave(lock, self);
}

bool blocking_pool::wait_for_call(std::unique_lock<std::mutex>& lock) {
    const auto deadline = deadline_after(keep_alive_);
    bool timed_out = false;
    for (;;) {
        if (claimed_ > 0) {
            --claimed_; // the submit that claimed an idle thread already took it off idle_
            return true;
        }
        if (closed_) {
            --idle_;
            return false;
        }
        if (timed_out) {
            --idle_;
            ++retired_;
            return false;
        }
        // A spurious wake-up finds nothing claimed and waits again, for the same deadline.
        timed_out = call_queued_.wait_until(lock, deadline) == std::cv_status::timeout;
    }
}

void blocking_pool::leave(std::unique_lock<std::mutex>& lock, thread_list::iterator self) noexcept {
    std::thread previous = std::exchange(ended_, std::move(*self));
    threads_.erase(self);
    if (threads_.empty()) {
        thread_ended_.notify_all();
    }
    lock.unlock();
    // Nothing of the pool is touched from here on: shut_down may be joining this thread.
    if (previous.joinable()) {
        previous.join();
    }
}

void blocking_pool::close() noexcept {
    std::unique_lock lock(mutex_);
    if (closed_) {
        return;
    }
    closed_ = true;
    blocking_job* dropped = std::exchange(head_, nullptr);
    tail_ = nullptr;
    queued_ = 0;
    lock.unlock();
    call_queued_.notify_all();
    if (dropped == nullptr) {
        return;
    }
    const std::exception_ptr error = shut_down_error();
    while (dropped != nullptr) {
        blocking_job* next = dropped->next_queued; // read first: refusing may free it
        refuse(*dropped, error);
        dropped = next;
    }
}

void blocking_pool::shut_down() noexcept {
    close();
    std::unique_lock lock(mutex_);
    const auto all_ended = [this] { return threads_.empty(); };
    if (!thread_ended_.wait_until(lock, deadline_after(report_after_), all_ended)) {
        report_still_running(threads_.size(), report_after_);
        thread_ended_.wait(lock, all_ended);
    }
    std::thread last = std::move(ended_);
    lock.unlock();
    if (last.joinable()) {
        last.join();
    }
}

blocking_pool_stats blocking_pool::stats() {
    std::lock_guard guard(mutex_);
    return {threads_.size(), idle_, queued_, started_, retired_};
}

void blocking_pool::push(blocking_job& job) noexcept {
    job.next_queued = nullptr;
    (tail_ != nullptr ? tail_->next_queued : head_) = &job;
    tail_ = &job;
    ++queued_;
}

blocking_job* blocking_pool::pop() noexcept {
    blocking_job* job = head_;
    if (job != nullptr) {
        head_ = job->next_queued;
        if (head_ == nullptr) {
            tail_ = nullptr;
        }
        --queued_;
    }
    return job;
}

void blocking_pool::refuse(blocking_job& job, const std::exception_ptr& error) noexcept {
    if (job.claim()) {
        job.fail(error);
        job.finish();
    }
    let_go(job);
}

void blocking_pool::let_go(blocking_job& job) noexcept {
    job.release();
    // seq_cst: the store half of the pairing in calls_in_flight. The last call gone, an
    // idle runtime may move its clock: wake a sleeper to do it.
    if (virtual_time_listener_ != nullptr &&
        in_flight_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
        virtual_time_listener_->blocking_calls_drained();
    }
}

} // namespace weft::detail
