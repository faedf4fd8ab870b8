// A list of parties waiting for one completion (a task's end, a future's result), in one
// word: a one-bit spin lock, the `done` flag and, before completion, the newest node (the
// nodes link to each other both ways, so the oldest is found by walking back); after
// completion, the pointer the owner asked the list to keep (its keepsake).
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
    waiter_node* older = nullptr;
    waiter_node* newer = nullptr;
    bool linked = false;
};

class waiter_list {
public:
    bool done() const noexcept {
        // acquire: pairs with the release in complete(), so the result is visible.
        return (word_.load(std::memory_order_acquire) & done_bit) != 0;
    }

    // Appends `node` unless the list is already done; returns whether it was appended.
    bool enqueue(waiter_node& node) noexcept {
        return enqueue(node, [] { return true; });
    }

    // The same, but only if `admit()`, called under the lock when the list is not done,
    // returns true: what it does is atomic with respect to completion and remove().
    template <class Admit>
    bool enqueue(waiter_node& node, Admit&& admit) noexcept {
        const std::uintptr_t word = lock();
        if ((word & done_bit) != 0 || !admit()) {
            unlock(word);
            return false;
        }
        waiter_node* newest = pointer_of<waiter_node>(word);
        node.older = newest;
        node.newer = nullptr;
        if (newest != nullptr) {
            newest->newer = &node;
        }
        node.linked = true;
        unlock(with_pointer(word, &node));
        return true;
    }

    // Unlinks `node` if it is still waiting; returns whether it was (then it will never be
    // woken). When it returns, no wake of `node` is running, so the node may be destroyed.
    bool remove(waiter_node& node) noexcept {
        // acquire: done and unlocked means completion, wakes included, happened before us.
        const std::uintptr_t seen = word_.load(std::memory_order_acquire);
        if ((seen & done_bit) != 0 && (seen & lock_bit) == 0) {
            return false;
        }
        const std::uintptr_t word = lock();
        waiter_node* newest = pointer_of<waiter_node>(word);
        const bool was_linked = node.linked;
        if (was_linked) {
            if (node.older != nullptr) {
                node.older->newer = node.newer;
            }
            (node.newer != nullptr ? node.newer->older : newest) = node.older;
            node.linked = false;
        }
        unlock(with_pointer(word, newest));
        return was_linked;
    }

    // Runs `publish()` and wakes every waiter, once. Returns false if already done. The list
    // then keeps `keepsake` for its owner (a finished task's check, see complete_task): an
    // address aligned to at least 4, which the word holds in place of the newest node.
    template <class Publish>
    bool complete(Publish&& publish, const void* keepsake = nullptr) {
        std::uintptr_t idle = 0;
        // acquire, as in lock(): a list that nobody waits on, neither done nor locked (a task
        // that ends before anyone awaits it), is locked by one CAS, and the wake loop below
        // folds away; relaxed on failure, since lock() reloads.
        if (word_.compare_exchange_strong(idle, lock_bit, std::memory_order_acquire,
                                          std::memory_order_relaxed)) [[likely]] {
            return complete_locked(lock_bit, publish, keepsake);
        }
        const std::uintptr_t word = lock();
        if ((word & done_bit) != 0) {
            unlock(word);
            return false;
        }
        return complete_locked(word, publish, keepsake);
    }

    // What complete() was given to keep; read by a thread that learned through some other
    // synchronisation with the completing one that the list is done.
    const void* keepsake() const noexcept {
        // relaxed: that other synchronisation ordered the completion's store before us.
        return pointer_of<const void>(word_.load(std::memory_order_relaxed));
    }

private:
    // complete() once it holds the lock, the list not done: `word` is the locked word.
    template <class Publish>
    bool complete_locked(std::uintptr_t word, Publish& publish, const void* keepsake) {
        try {
            publish();
        } catch (...) {
            unlock(word);
            throw;
        }
        const std::uintptr_t finished = reinterpret_cast<std::uintptr_t>(keepsake) | done_bit;
        waiter_node* node = pointer_of<waiter_node>(word);
        if (node == nullptr) [[likely]] {
            // release: done() readers that see the flag see the result; nobody waits, so
            // the lock goes with the same store.
            word_.store(finished, std::memory_order_release);
            return true;
        }
        // release: as above; the lock stays held while the waiters are woken.
        word_.store(finished | lock_bit, std::memory_order_release);
        while (node->older != nullptr) {
            node = node->older;
        }
        while (node != nullptr) {
            waiter_node* next = node->newer; // read before wake: the node may die there
            node->linked = false;
            node->wake(*node);
            node = next;
        }
        unlock(finished | lock_bit);
        return true;
    }

    // The word holds an address with the two flags in its low bits, which the alignment of
    // a node (or of a keepsake) leaves zero: a list costs one word, so a task header stays
    // small.
    static constexpr std::uintptr_t lock_bit = 1;
    static constexpr std::uintptr_t done_bit = 2;
    static constexpr std::uintptr_t flag_bits = lock_bit | done_bit;
    static_assert(alignof(waiter_node) > flag_bits);

    template <class Pointee>
    static Pointee* pointer_of(std::uintptr_t word) noexcept {
        return reinterpret_cast<Pointee*>(word & ~flag_bits);
    }
    static std::uintptr_t with_pointer(std::uintptr_t word, const void* pointer) noexcept {
        return reinterpret_cast<std::uintptr_t>(pointer) | (word & flag_bits);
    }

    // Returns the word as locked, pointer and done flag included.
    std::uintptr_t lock() noexcept {
        for (;;) {
            // acquire: the critical section sees the previous holder's writes.
            const std::uintptr_t word = word_.fetch_or(lock_bit, std::memory_order_acquire);
            if ((word & lock_bit) == 0) {
                return word | lock_bit;
            }
            // relaxed: only a hint to retry; the fetch_or above does the synchronising.
            while ((word_.load(std::memory_order_relaxed) & lock_bit) != 0) {
                cpu_relax();
            }
        }
    }
    // Stores `locked_word` with the lock bit cleared. A plain store is enough: while the
    // lock is held, other threads' fetch_or rewrites the same value.
    void unlock(std::uintptr_t locked_word) noexcept {
        // release: hands the critical section's writes to the next holder.
        word_.store(locked_word & ~lock_bit, std::memory_order_release);
    }

    std::atomic<std::uintptr_t> word_{0};
};

} // namespace weft::detail
