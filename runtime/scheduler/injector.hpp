// The runtime's shared queue: work submitted from threads that are not its workers, and
// the overflow of full local queues. FIFO, guarded by a mutex (it is off the hot path:
// workers reach it every 61 steps, when their own queues are empty, or once per 128 tasks
// of a spawn burst that overflows its local queue).
//
// The handles sit in a chain of fixed blocks, oldest first: a push copies into the newest
// block's free end, a pop copies out of the oldest block's front, and a block emptied by a
// pop is kept as the one spare, so a steady overflow allocates nothing. A batch of handles
// is one copy in and one out, with no per-handle bookkeeping.
//
// `size_` mirrors the length so idle workers can check for work without the lock; it is
// written with seq_cst after the push, pairing with the parking protocol (see idle.hpp).
// Once closed (runtime shutdown) pushes are dropped: those frames die with their tasks.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>

namespace weft::detail {

class injector {
public:
    injector() = default;
    injector(const injector&) = delete;
    injector& operator=(const injector&) = delete;
    ~injector() { free_blocks(); }

    void push(std::coroutine_handle<> handle) { push_batch(&handle, 1); }

    void push_batch(const std::coroutine_handle<>* handles, std::size_t count) {
        std::lock_guard guard(mutex_);
        if (closed_) {
            return;
        }
        while (count > 0) {
            if (newest_ == nullptr || newest_->end == block_capacity) {
                append_block();
            }
            const std::size_t copied = std::min<std::size_t>(count, block_capacity - newest_->end);
            std::memcpy(newest_->slot(newest_->end), handles, copied * handle_bytes);
            newest_->end += static_cast<std::uint32_t>(copied);
            handles += copied;
            count -= copied;
            length_ += copied;
        }
        // seq_cst: the store half of the pusher's store->load pair with idle::state_.
        size_.store(length_, std::memory_order_seq_cst);
    }

    // Moves up to `max` handles into `out`; returns how many.
    std::size_t pop_batch(std::coroutine_handle<>* out, std::size_t max) {
        // relaxed: a hint; a worker about to sleep does not rely on it but re-checks
        // with empty(), a seq_cst load (the parking protocol).
        if (size_.load(std::memory_order_relaxed) == 0) {
            return 0;
        }
        std::lock_guard guard(mutex_);
        std::size_t taken = 0;
        while (taken < max && oldest_ != nullptr) {
            const std::size_t copied =
                std::min<std::size_t>(max - taken, oldest_->end - oldest_->begin);
            std::memcpy(out + taken, oldest_->slot(oldest_->begin), copied * handle_bytes);
            oldest_->begin += static_cast<std::uint32_t>(copied);
            taken += copied;
            if (oldest_->begin == oldest_->end) {
                retire_oldest();
            }
        }
        length_ -= taken;
        // seq_cst: keeps every size_ write in the one order the parking protocol reads.
        size_.store(length_, std::memory_order_seq_cst);
        return taken;
    }

    bool empty() const noexcept {
        // seq_cst: the load half of the parker's store->load pair (see idle.hpp).
        return size_.load(std::memory_order_seq_cst) == 0;
    }

    // Stops accepting work and drops what is queued, without resuming it.
    void close() {
        std::lock_guard guard(mutex_);
        closed_ = true;
        free_blocks();
        length_ = 0;
        // seq_cst: as in push_batch.
        size_.store(0, std::memory_order_seq_cst);
    }

private:
    // Two overflows of a full local queue (128 handles and the new one each) fit a block.
    static constexpr std::uint32_t block_capacity = 258;
    static constexpr std::size_t handle_bytes = sizeof(std::coroutine_handle<>);
    static_assert(std::is_trivially_copyable_v<std::coroutine_handle<>>);

    struct block {
        block* next = nullptr;
        // The queued handles are slots [begin, end), copied in and out as bytes (a handle is
        // trivially copyable): raw storage, so a new block is not zeroed first.
        std::uint32_t begin = 0;
        std::uint32_t end = 0;
        alignas(std::coroutine_handle<>) unsigned char storage[block_capacity * handle_bytes];

        unsigned char* slot(std::uint32_t index) noexcept { return storage + index * handle_bytes; }
    };

    // Under the lock: a block at the newest end, the spare if there is one.
    void append_block() {
        block* fresh = spare_ != nullptr ? spare_ : new block;
        spare_ = nullptr;
        fresh->next = nullptr;
        fresh->begin = 0;
        fresh->end = 0;
        (newest_ != nullptr ? newest_->next : oldest_) = fresh;
        newest_ = fresh;
    }

    // Under the lock: unlinks the emptied oldest block and keeps it as the spare.
    void retire_oldest() noexcept {
        block* emptied = oldest_;
        oldest_ = emptied->next;
        if (oldest_ == nullptr) {
            newest_ = nullptr;
        }
        delete spare_;
        spare_ = emptied;
    }

    void free_blocks() noexcept {
        while (oldest_ != nullptr) {
            delete std::exchange(oldest_, oldest_->next);
        }
        newest_ = nullptr;
        delete std::exchange(spare_, nullptr);
    }

    std::mutex mutex_;
    block* oldest_ = nullptr;
    block* newest_ = nullptr;
    block* spare_ = nullptr;
    std::size_t length_ = 0; // under the lock; size_ mirrors it
    std::atomic<std::size_t> size_{0};
    bool closed_ = false;
};

} // namespace weft::detail
