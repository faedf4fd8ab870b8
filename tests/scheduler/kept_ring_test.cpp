// Tests weft::detail::keep_ring and take_kept_ring (runtime/scheduler/kept_ring.cpp): the
// largest ring offered is the one kept, a ring is handed out once, and only to a queue that
// needs at least an eighth of it.
#include "scheduler/kept_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

#include "fake_handles.hpp"

namespace {

using weft::detail::keep_ring;
using weft::detail::kept_ring_oversize;
using weft::detail::ring_storage;
using weft::detail::take_kept_ring;
using weft::testing::forget_kept_ring;

// Offers a new ring of `size` slots; its address, to tell whether it is the one kept.
void** offer_new_ring(std::uint32_t size) {
    ring_storage ring{std::unique_ptr<void*[]>(new void*[size]), size};
    void** const address = ring.slots.get();
    keep_ring(std::move(ring));
    return address;
}

TEST(KeptRing, NothingIsKeptUntilARingIsOffered) {
    forget_kept_ring();
    EXPECT_EQ(take_kept_ring(512).slots, nullptr);
}

TEST(KeptRing, ARingOfferedIsHandedOutOnceAtItsOwnSize) {
    forget_kept_ring();
    void** const address = offer_new_ring(1024);

    ring_storage taken = take_kept_ring(1024);
    EXPECT_EQ(taken.slots.get(), address);
    EXPECT_EQ(taken.size, 1024U);
    EXPECT_EQ(take_kept_ring(1024).slots, nullptr);
}

TEST(KeptRing, TheLargerOfTwoRingsOfferedIsKept) {
    forget_kept_ring();
    offer_new_ring(1024);
    void** const large_address = offer_new_ring(4096);
    offer_new_ring(2048); // smaller than the one kept: freed

    ring_storage taken = take_kept_ring(4096);
    EXPECT_EQ(taken.slots.get(), large_address);
    EXPECT_EQ(taken.size, 4096U);
    EXPECT_EQ(take_kept_ring(512).slots, nullptr);
}

TEST(KeptRing, AQueueNeedingLessThanAnEighthOrMoreThanTheRingGetsNone) {
    forget_kept_ring();
    constexpr std::uint32_t size = 8192;
    offer_new_ring(size);

    EXPECT_EQ(take_kept_ring(size / kept_ring_oversize / 2).slots, nullptr);
    EXPECT_EQ(take_kept_ring(2 * size).slots, nullptr);
    ring_storage taken = take_kept_ring(size / kept_ring_oversize);
    EXPECT_NE(taken.slots, nullptr);
    EXPECT_EQ(taken.size, size);
}

} // namespace
