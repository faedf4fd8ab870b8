// A list of parties waiting for one completion (a task's end, a future's result), guarded
// by a one-bit spin lock that shares its word with the `done` flag.
//
// Invariants: a node is in the list exactly while its `linked` flag is true; `linked` only
// changes under the lock. Completion happens once: it publishes the result, unlinks every
// node and wakes it in arrival order, all under the lock, then sets `done` with release so
// that a reader who sees `done` also sees the result. Waking under the lock lets a node's
// owner unlink it safely at any time (see remove()).
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
    std::atomic<bool> linked{false};
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
        // relaxed: written and read under the lock, or read by the owner after a wake-up
        // that carries its own happens-before edge.
        node.linked.store(true, std::memory_order_relaxed);
        unlock();
        return true;
    }

    // Unlinks `node` if it is still waiting; a no-op once it has been woken.
    void remove(waiter_node& node) noexcept {
        // acquire: if the waker already cleared the flag, its wake-up happened before us.
        if (!node.linked.load(std::memory_order_acquire)) {
            return;
        }
        lock();
        if (node.linked.load(std::memory_order_relaxed)) {
            (node.prev ? node.prev->next : head_) = node.next;
            (node.next ? node.next->prev : tail_) = node.prev;
            node.linked.store(false, std::memory_order_relaxed);
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
        waiter_node* node = head_;
        head_ = tail_ = nullptr;
        while (node != nullptr) {
            waiter_node* next = node->next; // read before wake: the node may die there
            // release: a remove() that reads false skips the lock, so it must see the
            // list no longer holds the node.
            node->linked.store(false, std::memory_order_release);
            node->wake(*node);
            node = next;
        }
        // release: publishes the result together with the unlock.
        state_.store(done_bit, std::memory_order_release);
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
