// Tests weft::detail::timer_driver (runtime/time/timer_driver.cpp): a timer fires through the
// driver's waker at its deadline and not before; cancel() takes a pending timer out and
// reports whether it was pending; the pending count and, in virtual time only, the published
// next deadline follow the wheel; and a canceller on another thread racing the owner's
// firing settles every timer exactly once, either fired or withdrawn.
#include "time/timer_driver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "scheduler/runtime.hpp"

namespace {

using weft::detail::timer_driver;
using weft::detail::timer_entry;

// Counts what the driver's timers wake. A runtime that is never started names the home.
class counting_waker final : public weft::detail::waker {
public:
    explicit counting_waker(weft::detail::runtime& home) : waker(home) {}
    void wake(std::coroutine_handle<>) noexcept override { ++woken; }
    std::size_t woken = 0;
};

// A timer whose fire wakes the driver's owner, as a sleep's does.
struct waking_timer : timer_entry {
    timer_driver* driver = nullptr;
    waking_timer() {
        fire = [](timer_entry& entry) noexcept {
            static_cast<waking_timer&>(entry).driver->owner().wake(std::noop_coroutine());
        };
    }
};

struct driver_fixture {
    weft::detail::runtime home{1, weft::run_options{}};
    counting_waker waker{home};
};

TEST(TimerDriver, FiresThroughItsWakerAtTheDeadline) {
    driver_fixture fixture;
    timer_driver driver(fixture.waker, false);
    waking_timer timer;
    timer.driver = &driver;
    timer.deadline = 1'000;
    ASSERT_TRUE(driver.add(timer));
    EXPECT_EQ(driver.pending(), 1u);
    EXPECT_EQ(driver.next_deadline(), 1'000u);
    EXPECT_EQ(driver.fire_due(999), 0u);
    EXPECT_EQ(fixture.waker.woken, 0u);
    EXPECT_EQ(driver.fire_due(1'000), 1u);
    EXPECT_EQ(fixture.waker.woken, 1u);
    EXPECT_EQ(driver.pending(), 0u);
    EXPECT_FALSE(driver.next_deadline().has_value());
    EXPECT_FALSE(driver.cancel(timer)) << "a fired timer is no longer pending";
}

TEST(TimerDriver, CancelTakesAPendingTimerOut) {
    driver_fixture fixture;
    timer_driver driver(fixture.waker, false);
    waking_timer timer;
    timer.driver = &driver;
    timer.deadline = 50;
    ASSERT_TRUE(driver.add(timer));
    EXPECT_TRUE(driver.cancel(timer));
    EXPECT_FALSE(driver.cancel(timer));
    EXPECT_EQ(driver.pending(), 0u);
    EXPECT_EQ(driver.fire_due(100), 0u);
    EXPECT_EQ(fixture.waker.woken, 0u);
}

TEST(TimerDriver, PublishesTheNextDeadlineOnlyInVirtualTime) {
    driver_fixture fixture;
    timer_driver real(fixture.waker, false);
    timer_driver virtual_time(fixture.waker, true);
    waking_timer early;
    waking_timer late;
    waking_timer unpublished;
    early.deadline = 10;
    late.deadline = 20;
    unpublished.deadline = 10;
    ASSERT_TRUE(virtual_time.add(late));
    ASSERT_TRUE(virtual_time.add(early));
    ASSERT_TRUE(real.add(unpublished));
    EXPECT_EQ(virtual_time.published_next_deadline(), 10u);
    EXPECT_EQ(real.published_next_deadline(), timer_driver::no_timer);
    ASSERT_TRUE(virtual_time.cancel(early));
    EXPECT_EQ(virtual_time.published_next_deadline(), 20u);
    ASSERT_TRUE(virtual_time.cancel(late));
    EXPECT_EQ(virtual_time.published_next_deadline(), timer_driver::no_timer);
    ASSERT_TRUE(real.cancel(unpublished));
}

TEST(TimerDriver, ACancellerRacingTheFiringSettlesEachTimerOnce) {
    constexpr std::size_t timers = 20'000;
    driver_fixture fixture;
    timer_driver driver(fixture.waker, true);
    std::vector<waking_timer> entries(timers);
    for (std::size_t i = 0; i < timers; ++i) {
        entries[i].driver = &driver;
        entries[i].deadline = i + 1;
        ASSERT_TRUE(driver.add(entries[i]));
    }
    std::atomic<bool> go{false};
    std::size_t withdrawn = 0;
    std::thread canceller([&] {
        // acquire: pairs with the release below, only to start both threads together.
        while (!go.load(std::memory_order_acquire)) {
        }
        for (std::size_t i = timers; i-- > 0;) {
            withdrawn += driver.cancel(entries[i]) ? 1 : 0;
        }
    });
    // release: see above.
    go.store(true, std::memory_order_release);
    std::size_t fired = 0;
    for (std::uint64_t now = 0; now <= timers; now += 7) {
        fired += driver.fire_due(now);
    }
    canceller.join();
    fired += driver.fire_due(timers);
    EXPECT_EQ(fired + withdrawn, timers);
    EXPECT_EQ(fixture.waker.woken, fired);
    EXPECT_EQ(driver.pending(), 0u);
    EXPECT_EQ(driver.published_next_deadline(), timer_driver::no_timer);
}

} // namespace
