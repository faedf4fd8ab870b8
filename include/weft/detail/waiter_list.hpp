// A list of parties waiting for one completion (a task's end, a future's result), guarded
// by a one-bit spin lock that shares its word with the `done` flag.
//
// Invariants: a node is in the list exactly while its `linked` flag is true; `linked` is
// only read and written under the lock. Completion happens once: under the lock it
// publishes the result, sets `done` (so anyone resumed by it sees done() true), unlinks
// every node and wakes it in arrival order, and only then releases the lock. Because the
// wakes run under the lock, remove() can make sure no wake is still reading its node:
// either completion is over (done and unlocked) or remove() takes the lock.
#pragma once

#include <atomic>
#include <cstdint>

#include <weft/detail/cpu_relax.hpp>

namespace weft::detail {

struct waiter_node {
    using wake_fn = void (*)(waiter_node&) noexcept;

    // Called once, under the list's lock, when the awaited thing completes. It may hand the
    // waiter to another thread, so it must not touch the node after doing so.
    wake_fn wake = nullptr;
    waiter_node* prev = nullptr;
    waiter_node* next = nullptr;
    bool linked = false;
};

class waiter_list {
public:
    bool done() const noexcept {
        // acquire: pairs with the release in complete(), so the result is visible.
        return (state_.load(std::memory_order_acquire) & done_bit) != 0;
    }

    // Appends `node` unless the list is already done; returns whether it was appended.
    bool enqueue(waiter_node& node) noexcept {
        lock();
        if (state_.load(std::memory_order_relaxed) & done_bit) {
            unlock();
            return false;
        }
        node.prev = tail_;
        node.next = nullptr;
        (tail_ ? tail_->next : head_) = &node;
        tail_ = &node;
        node.linked = true;
        unlock();
        return true;
    }

    // Unlinks `node` if it is still waiting. When it returns, no wake of `node` is running,
    // so the node may be destroyed.
    void remove(waiter_node& node) noexcept {
        // acquire: done and unlocked means completion, wakes included, happened before us.
        const std::uint32_t state = state_.load(std::memory_order_acquire);
        if ((state & done_bit) != 0 && (state & lock_bit) == 0) {
            return;
        }
        lock();
        if (node.linked) {
            (node.prev ? node.prev->next : head_) = node.next;
            (node.next ? node.next->prev : tail_) = node.prev;
            node.linked = false;
        }
        unlock();
    }

    // Runs `publish()` and wakes every waiter, once. Returns false if already done.
    template <class Publish>
    bool complete(Publish&& publish) {
        lock();
        if (state_.load(std::memory_order_relaxed) & done_bit) {
            unlock();
            return false;
        }
        try {
            publish();
        } catch (...) {
            unlock();
            throw;
        }
        // release: done() readers that see the flag see the result; the lock stays held.
        state_.store(done_bit | lock_bit, std::memory_order_release);
        waiter_node* node = head_;
        head_ = tail_ = nullptr;
        while (node != nullptr) {
            waiter_node* next = node->next; // read before wake: the node may die there
            node->linked = false;
            node->wake(*node);
            node = next;
        }
        unlock();
        return true;
    }

private:
    static constexpr std::uint32_t lock_bit = 1;
    static constexpr std::uint32_t done_bit = 2;

    void lock() noexcept {
        // acquire: the critical section sees the previous holder's writes.
        while (state_.fetch_or(lock_bit, std::memory_order_acquire) & lock_bit) {
            // relaxed: only a hint to retry; the fetch_or above does the synchronising.
            while (state_.load(std::memory_order_relaxed) & lock_bit) {
                cpu_relax();
            }
        }
    }
    void unlock() noexcept {
        // release: hands the critical section's writes to the next holder.
        state_.fetch_and(~lock_bit, std::memory_order_release);
    }

    std::atomic<std::uint32_t> state_{0};
    waiter_node* head_ = nullptr;
    waiter_node* tail_ = nullptr;
};

} // namespace weft::detail
