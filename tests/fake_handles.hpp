// Stand-ins for coroutine handles, for the tests of the scheduler's queues: each carries a
// number in a distinct, non-null, 16-byte-aligned address and is never resumed, so a test
// can push values and check which come out, in which order. Also the reset of the ring the
// process keeps for queues without thieves, so that a test of growth starts from none.
#pragma once

#include <coroutine>
#include <cstdint>
#include <vector>

#include "scheduler/kept_ring.hpp"

namespace weft::testing {

inline std::coroutine_handle<> fake_handle(std::uint32_t value) {
    return std::coroutine_handle<>::from_address(
        reinterpret_cast<void*>(static_cast<std::uintptr_t>(value) << 4));
}

inline std::uint32_t value_of(std::coroutine_handle<> handle) {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(handle.address()) >> 4);
}

// The values first, first + 1, ..., last.
inline std::vector<std::uint32_t> range(std::uint32_t first, std::uint32_t last) {
    std::vector<std::uint32_t> values;
    for (std::uint32_t value = first; value <= last; ++value) {
        values.push_back(value);
    }
    return values;
}

// Takes whatever ring the process keeps (an earlier test's, or a runtime's), and frees it.
inline void forget_kept_ring() {
    for (int shift = 0; shift < 32; ++shift) {
        weft::detail::take_kept_ring(std::uint32_t{1} << shift);
    }
}

} // namespace weft::testing
