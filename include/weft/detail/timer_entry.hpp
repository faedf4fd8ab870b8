// The timer entry of runtime/time/timer_wheel.hpp, public (as a detail) because it is embedded
// in the awaiter of weft::sleep. Only the wheel touches its private links.
#pragma once

#include <cstdint>

namespace weft::detail {

class timer_wheel;

// A timer, intrusive: it lives inside whatever waits on it (derive from it and static_cast
// back in `fire`). The wheel links to its address, so a pending entry must be neither moved,
// copied over nor destroyed; cancel it first.
struct timer_entry {
    // Nanoseconds on the runtime's clock; set before insert(), left alone while pending.
    std::uint64_t deadline = 0;
    // Called once by advance() when the deadline has come; the entry is no longer pending
    // by then, so `fire` may insert it again or end its lifetime.
    void (*fire)(timer_entry&) noexcept = nullptr;

private:
    friend class timer_wheel;

    static constexpr std::uint16_t unlinked = UINT16_MAX;
    static constexpr unsigned sequence_bits = 48;

    timer_entry* prev_ = nullptr;
    timer_entry* next_ = nullptr;
    // Index of the list that holds it (a slot, or the expired list), or `unlinked`.
    std::uint64_t list_ : 16 = unlinked;
    // The wheel's insertion counter at insert(), modulo 2^48: ties between equal deadlines go
    // to the older. It shares the list index's word, as a sleeping coroutine pays for every
    // byte of its entry.
    std::uint64_t sequence_ : sequence_bits = 0;
};

static_assert(sizeof(timer_entry) <= 40, "a sleeping coroutine pays for its timer_entry");

} // namespace weft::detail
