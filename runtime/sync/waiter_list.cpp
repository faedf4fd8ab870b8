// The owner's count of a waiter_list off its inline paths: a word locked by another party,
// a count spilled to the owner's counter (which, spilled for good, takes no lock), and the
// spill itself.
#include <weft/detail/waiter_list.hpp>

#include <cstdio>
#include <exception>

namespace weft::detail {

void waiter_list::address_beyond_48_bits() noexcept {
    std::fputs("weft: an address above 48 bits does not fit a waiter list's word\n", stderr);
    std::terminate();
}

void waiter_list::add_when_busy(std::atomic<std::uint32_t>& spill) noexcept {
    // A spilled count stays spilled, so it needs no lock. acquire: the word that says so
    // was written by the unlocking release after the spill's first store.
    if (spilled(word_.load(std::memory_order_acquire))) {
        // relaxed: as add_to_count's CAS.
        spill.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const std::uintptr_t word = lock();
    if (spilled(word)) {
        unlock(word);
        // relaxed: as add_to_count's CAS; our lock acquired the spill's first store.
        spill.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if ((word & count_mask) < full_count) {
        unlock(word + one_count); // the count changes with the unlocking store
        return;
    }
    // relaxed: the unlocking release below publishes it to whoever sees the word spilled.
    spill.store(max_count + 1, std::memory_order_relaxed);
    unlock(word | count_mask);
}

bool waiter_list::drop_when_busy(std::atomic<std::uint32_t>& spill) noexcept {
    // acquire: as in add_when_busy.
    if (spilled(word_.load(std::memory_order_acquire))) {
        return drop_spilled(spill);
    }
    const std::uintptr_t word = lock();
    if (spilled(word)) {
        unlock(word);
        return drop_spilled(spill);
    }
    const bool last = (word & count_mask) == one_count;
    // The unlocking store is a release, as drop_from_count's RMW is; the lock's acquire
    // stands for that RMW's acquire.
    unlock(word - one_count);
    return last;
}

bool waiter_list::drop_spilled(std::atomic<std::uint32_t>& spill) noexcept {
    // acquire: as drop_from_count's load.
    if (spill.load(std::memory_order_acquire) == 1) {
        // relaxed: as drop_from_count's store.
        spill.store(0, std::memory_order_relaxed);
        return true;
    }
    // acq_rel: as drop_from_count's CAS.
    return spill.fetch_sub(1, std::memory_order_acq_rel) == 1;
}

} // namespace weft::detail
