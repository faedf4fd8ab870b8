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

    timer_entry* prev_ = nullptr;
    timer_entry* next_ = nullptr;
    // The wheel's insertion counter at insert(): ties between equal deadlines go to the older.
    std::uint64_t sequence_ = 0;
    // Index of the list that holds it (a slot, or the expired list), or `unlinked`.
    std::uint16_t list_ = unlinked;
};

static_assert(sizeof(timer_entry) <= 64, "a sleeping coroutine pays for its timer_entry");

} // namespace weft::detail
