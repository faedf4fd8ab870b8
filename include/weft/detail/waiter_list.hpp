// A list of parties waiting for one completion (a task's end, a future's result), in one
// word: a one-bit spin lock, the `done` flag and, before completion, the newest node (the
// nodes link to each other both ways, so the oldest is found by walking back); after
// completion, the pointer the owner asked the list to keep (its keepsake). The word's top
// 16 bits keep a count for the owner: a task's references, so that its completion drops
// the running reference in the same store that marks it done and releases the lock. A count
// that outgrows them moves, for good, to a counter of the owner's (`spill`), and the word
// says so.
//
// Invariants: a node is in the list exactly while its `linked` flag is true; `linked` is
// only read and written under the lock. Completion happens once: under the lock it
// publishes the result, sets `done` (so anyone resumed by it sees done() true), unlinks
// every node and wakes it in arrival order, and only then releases the lock. Because the
// wakes run under the lock, remove() can make sure no wake is still reading its node:
// either completion is over (done and unlocked) or remove() takes the lock. The count
// changes only by a CAS of an unlocked word, or by the store that releases the lock, so
// a lock holder's unlocking store never loses a change.
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
        check_address(&node);
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
    // The common case, a join of a task already done, is the inline load; the rest is a call.
    bool remove(waiter_node& node) noexcept {
        // acquire: done and unlocked means completion, wakes included, happened before us.
        const std::uintptr_t seen = word_.load(std::memory_order_acquire);
        if ((seen & done_bit) != 0 && (seen & lock_bit) == 0) {
            return false;
        }
        return remove_locked(node);
    }

    // Runs `publish()` and wakes every waiter, once. Returns false if already done. The list
    // then keeps `keepsake` for its owner (a finished task's check, see complete_task): the
    // address of an object of static storage duration, aligned to at least 8, which the
    // word holds in place of the newest node.
    template <class Publish>
    bool complete(Publish&& publish, const void* keepsake = nullptr) {
        const std::uintptr_t word = lock_to_complete();
        if ((word & done_bit) != 0) {
            unlock(word);
            return false;
        }
        return complete_locked(word, publish, keepsake, 0);
    }

    // complete() with nothing to publish, if `admit()`, called under the lock, returns true;
    // otherwise the list is left as it was, and false returned (as for a list already done).
    // The lock is taken with a seq_cst RMW, which `admit` may pair with (end_task_strand).
    template <class Admit>
    bool complete_if(const void* keepsake, Admit&& admit) noexcept {
        const std::uintptr_t word = lock_to_complete();
        if ((word & done_bit) != 0 || !admit()) [[unlikely]] {
            unlock(word);
            return false;
        }
        auto nothing = []() noexcept {};
        return complete_locked(word, nothing, keepsake, 0);
    }

    // What complete_dropping_one_if() did: completed and dropped one from the owner's count,
    // which was or was not the last, or was refused by its `admit`. The one-CAS form may
    // also find the list busy, and do nothing.
    enum class ending : std::uint8_t { kept, last, refused, busy };

    // complete_if() on a list that is not done, which also drops one from the owner's count: a
    // task's end and its running reference. A list nobody waits on is locked by one CAS and
    // completed, the lock released and the count dropped, by one store.
    template <class Admit>
    ending complete_dropping_one_if(const void* keepsake, std::atomic<std::uint32_t>& spill,
                                    Admit&& admit) noexcept {
        const std::uintptr_t word = lock_to_complete();
        if (!admit()) [[unlikely]] {
            unlock(word);
            return ending::refused;
        }
        auto nothing = []() noexcept {};
        if (spilled(word)) [[unlikely]] {
            complete_locked(word, nothing, keepsake, 0);
            return drop_spilled(spill) ? ending::last : ending::kept;
        }
        complete_locked(word, nothing, keepsake, one_count);
        return (word & count_mask) == one_count ? ending::last : ending::kept;
    }

    // complete_dropping_one_if() for a list nobody waits on, with its count in the word: one
    // CAS locks the idle word and one store completes it. `busy` (and nothing done) otherwise.
    template <class Admit>
    ending complete_alone_dropping_one_if(const void* keepsake, Admit&& admit) noexcept {
        // relaxed: only a guess, which the CAS checks.
        std::uintptr_t idle = word_.load(std::memory_order_relaxed);
        if ((idle & ~count_mask) != 0 || spilled(idle)) {
            return ending::busy;
        }
        // seq_cst: as lock_to_complete's; it also acquires, as drop_from_count's RMW, for the
        // last reference. relaxed on failure: nothing was read.
        if (!word_.compare_exchange_strong(idle, idle | lock_bit, std::memory_order_seq_cst,
                                           std::memory_order_relaxed)) {
            return ending::busy;
        }
        if (!admit()) [[unlikely]] {
            unlock(idle | lock_bit);
            return ending::refused;
        }
        // release: as complete_locked's store, which this one is for a list nobody waits on.
        word_.store((idle - one_count) | done_bit | reinterpret_cast<std::uintptr_t>(keepsake),
                    std::memory_order_release);
        return idle == one_count ? ending::last : ending::kept;
    }

    // Returns once the list is seen unlocked. Its first load is seq_cst, for a caller that
    // pairs it with complete_if's lock (cancel_record.cpp); the lock holder's writes are
    // then visible.
    void wait_unlocked() const noexcept {
        // seq_cst: as above; acquire would do for the holder's writes alone.
        std::uintptr_t word = word_.load(std::memory_order_seq_cst);
        while ((word & lock_bit) != 0) {
            cpu_relax();
            // acquire: the unlocking release hands over the holder's writes.
            word = word_.load(std::memory_order_acquire);
        }
    }

    // What drop_unless_busy() did: dropped one from the count, which was or was not the
    // last, or nothing, since the word was busy.
    enum class count_drop : std::uint8_t { kept, last, busy };

    // The owner's count, set before the list is shared.
    void set_count(std::uint32_t count, std::atomic<std::uint32_t>& spill) noexcept {
        // relaxed, both: nothing else can see the list yet; what shares it publishes.
        const std::uintptr_t word = word_.load(std::memory_order_relaxed);
        if (count <= max_count) {
            word_.store((word & ~count_mask) | (std::uintptr_t{count} << count_shift),
                        std::memory_order_relaxed);
        } else {
            spill.store(count, std::memory_order_relaxed);
            word_.store(word | count_mask, std::memory_order_relaxed);
        }
    }

    // Adds one to the owner's count; the caller holds one already, so it is not 0.
    void add_to_count(std::atomic<std::uint32_t>& spill) noexcept {
        // relaxed: a word that says the count was spilled sends us to add_when_busy, whose
        // acquiring load (or lock) orders the spill's first store, made before the unlocking
        // release, before our add.
        std::uintptr_t word = word_.load(std::memory_order_relaxed);
        for (;;) {
            if ((word & lock_bit) != 0 || (word & count_mask) >= full_count) [[unlikely]] {
                add_when_busy(spill);
                return;
            }
            // relaxed: a new reference made from an existing one, which keeps the owner
            // alive meanwhile, publishes nothing; on failure, as the load above.
            if (word_.compare_exchange_weak(word, word + one_count, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
                return;
            }
        }
    }

    // Drops one from the owner's count; returns whether it was the last.
    bool drop_from_count(std::atomic<std::uint32_t>& spill) noexcept {
        const count_drop dropped = drop_unless_busy();
        return dropped == count_drop::busy ? drop_when_busy(spill) : dropped == count_drop::last;
    }

    // drop_from_count() when the word is neither locked nor spilled; `busy` otherwise. A
    // count of 1 is the caller's alone, and nobody can add to it without holding one (a
    // task's owner makes sure of that), so the last drop needs no RMW.
    count_drop drop_unless_busy() noexcept {
        // acquire: 1 was written by the release RMW of the previous holder to leave, or by
        // the completion's unlocking store, so their uses happen before the destruction.
        std::uintptr_t word = word_.load(std::memory_order_acquire);
        for (;;) {
            if ((word & lock_bit) != 0 || spilled(word)) [[unlikely]] {
                return count_drop::busy;
            }
            if ((word & count_mask) == one_count) {
                // relaxed: the count goes to 0 all the same, which whoever destroys the
                // owner reads on this thread.
                word_.store(word - one_count, std::memory_order_relaxed);
                return count_drop::last;
            }
            // acq_rel: release publishes this holder's use; the last holder acquires every
            // other holder's before it destroys the owner. acquire on failure, as above.
            if (word_.compare_exchange_weak(word, word - one_count, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                return count_drop::kept; // the count was above 1
            }
        }
    }

    // drop_from_count() when the word is locked or the count spilled.
    [[gnu::noinline]] bool drop_when_busy(std::atomic<std::uint32_t>& spill) noexcept;

    // Whether the word may hold a count above 0: false for a list that never counted, or
    // whose count went to 0 in the word. A spilled count is read with counted().
    bool may_be_counted() const noexcept {
        // acquire: as counted().
        return (word_.load(std::memory_order_acquire) >> count_shift) != 0;
    }

    // Whether the owner's count is above 0.
    bool counted(const std::atomic<std::uint32_t>& spill) const noexcept {
        // acquire: pairs with drop_from_count's releasing RMW, as its own load does.
        const std::uintptr_t word = word_.load(std::memory_order_acquire);
        if (spilled(word)) {
            // acquire: as above, for a spilled count.
            return spill.load(std::memory_order_acquire) != 0;
        }
        return (word & count_mask) != 0;
    }

    // The most the word itself counts; all ones in its 16 bits say the count was spilled.
    static constexpr std::uint32_t max_count = 0xfffe;

    // What complete() was given to keep; read by a thread that learned through some other
    // synchronisation with the completing one that the list is done.
    const void* keepsake() const noexcept {
        // relaxed: that other synchronisation ordered the completion's store before us.
        return pointer_of<const void>(word_.load(std::memory_order_relaxed));
    }

private:
    // Locks the list for its completion. A list that nobody waits on, neither done nor
    // locked (a task that ends before anyone awaits it), is locked by one CAS, and the
    // wake loop of complete_locked folds away.
    std::uintptr_t lock_to_complete() noexcept {
        // relaxed: only a guess at the count, which the CAS checks.
        std::uintptr_t idle = word_.load(std::memory_order_relaxed) & count_mask;
        // seq_cst: acquire, as in lock(), and complete_if's pairing with wait_unlocked();
        // relaxed on failure, since lock() reloads.
        if (word_.compare_exchange_strong(idle, idle | lock_bit, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) [[likely]] {
            return idle | lock_bit;
        }
        return lock(std::memory_order_seq_cst);
    }

    // complete() once it holds the lock, the list not done: `word` is the locked word. The
    // unlocking store takes `dropped` off the count.
    template <class Publish>
    bool complete_locked(std::uintptr_t word, Publish& publish, const void* keepsake,
                         std::uintptr_t dropped) {
        try {
            publish();
        } catch (...) {
            unlock(word);
            throw;
        }
        const std::uintptr_t finished =
            (reinterpret_cast<std::uintptr_t>(keepsake) | done_bit | (word & count_mask)) - dropped;
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

    // The word holds an address with two flags in its low bits, which the alignment of a
    // node (or of a keepsake) leaves zero, and the count in the 16 bits above the 48 of a
    // user-space address on x86-64 and AArch64: a list costs one word, so a task header
    // stays small.
    static constexpr std::uintptr_t lock_bit = 1;
    static constexpr std::uintptr_t done_bit = 2;
    static constexpr std::uintptr_t flag_bits = lock_bit | done_bit;
    static_assert(alignof(waiter_node) > flag_bits);
    static_assert(sizeof(std::uintptr_t) == 8, "the count needs a 64-bit word");
    static constexpr unsigned count_shift = 48;
    static constexpr std::uintptr_t one_count = std::uintptr_t{1} << count_shift;
    static constexpr std::uintptr_t full_count = std::uintptr_t{max_count} << count_shift;
    static constexpr std::uintptr_t count_mask = full_count + one_count;
    static constexpr std::uintptr_t pointer_bits = ~(count_mask | flag_bits);
    static_assert(count_mask == ~std::uintptr_t{0} << count_shift);

    static bool spilled(std::uintptr_t word) noexcept { return (word & count_mask) == count_mask; }

    template <class Pointee>
    static Pointee* pointer_of(std::uintptr_t word) noexcept {
        return reinterpret_cast<Pointee*>(word & pointer_bits);
    }
    static std::uintptr_t with_pointer(std::uintptr_t word, const void* pointer) noexcept {
        return reinterpret_cast<std::uintptr_t>(pointer) | (word & ~pointer_bits);
    }
    // An address above 48 bits (a kernel's 57-bit user space, asked for explicitly) would
    // overlap the count: weft ends the program rather than corrupt it.
    static void check_address(const void* pointer) noexcept {
        if ((reinterpret_cast<std::uintptr_t>(pointer) & count_mask) != 0) [[unlikely]] {
            address_beyond_48_bits();
        }
    }
    [[noreturn, gnu::noinline, gnu::cold]] static void address_beyond_48_bits() noexcept;

    // add_to_count() when the word is locked, the count spilled, or the count full.
    [[gnu::noinline]] void add_when_busy(std::atomic<std::uint32_t>& spill) noexcept;
    // remove() when the list is not done and unlocked: under the lock.
    [[gnu::noinline]] bool remove_locked(waiter_node& node) noexcept {
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
    // Drops one from a spilled count; whether it was the last (as drop_from_count).
    static bool drop_spilled(std::atomic<std::uint32_t>& spill) noexcept;

    // Returns the word as locked, pointer and done flag included.
    std::uintptr_t lock(std::memory_order order = std::memory_order_acquire) noexcept {
        for (;;) {
            // acquire (or the caller's stronger order): the critical section sees the
            // previous holder's writes.
            const std::uintptr_t word = word_.fetch_or(lock_bit, order);
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
