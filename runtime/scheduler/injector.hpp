// The runtime's shared queue: work submitted from threads that are not its workers, and
// the overflow of full local queues. FIFO, guarded by a mutex (it is off the hot path:
// workers reach it every 61 steps or when their own queues are empty).
//
// `size_` mirrors the length so idle workers can check for work without the lock; it is
// written with seq_cst after the push, pairing with the parking protocol (see idle.hpp).
// Once closed (runtime shutdown) pushes are dropped: those frames die with their tasks.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>

namespace weft::detail {

class injector {
public:
    void push(std::coroutine_handle<> handle) { push_batch(&handle, 1); }

    void push_batch(const std::coroutine_handle<>* handles, std::size_t count) {
        std::lock_guard guard(mutex_);
        if (closed_) {
            return;
        }
        queue_.insert(queue_.end(), handles, handles + count);
        // seq_cst: the store half of the pusher's store->load pair with idle::state_.
        size_.store(queue_.size(), std::memory_order_seq_cst);
    }

    // Moves up to `max` handles into `out`; returns how many.
    std::size_t pop_batch(std::coroutine_handle<>* out, std::size_t max) {
        // relaxed: a hint; a worker about to sleep does not rely on it but re-checks
        // with empty(), a seq_cst load (the parking protocol).
        if (size_.load(std::memory_order_relaxed) == 0) {
            return 0;
        }
        std::lock_guard guard(mutex_);
        const std::size_t count = std::min(max, queue_.size());
        std::copy_n(queue_.begin(), count, out);
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
        // seq_cst: keeps every size_ write in the one order the parking protocol reads.
        size_.store(queue_.size(), std::memory_order_seq_cst);
        return count;
    }

    bool empty() const noexcept {
        // seq_cst: the load half of the parker's store->load pair (see idle.hpp).
        return size_.load(std::memory_order_seq_cst) == 0;
    }

    // Stops accepting work and drops what is queued, without resuming it.
    void close() {
        std::lock_guard guard(mutex_);
        closed_ = true;
        queue_.clear();
        // seq_cst: as in push_batch.
        size_.store(0, std::memory_order_seq_cst);
    }

private:
    std::mutex mutex_;
    std::deque<std::coroutine_handle<>> queue_;
    std::atomic<std::size_t> size_{0};
    bool closed_ = false;
};

} // namespace weft::detail
