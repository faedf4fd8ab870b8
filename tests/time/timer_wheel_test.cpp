// Tests weft::detail::timer_wheel (runtime/time/timer_wheel.hpp): entries fire at exactly their
// deadline and in (deadline, insertion) order, also when equal deadlines travelled through
// different levels; cancel unlinks and clears an emptied slot's bit; next_deadline() is
// exact; overdue, years-away and near-UINT64_MAX deadlines fire correctly by huge and small
// steps; a `fire` may insert and cancel re-entrantly; 1,000,000 insert-cancel cycles leave
// it empty. Against a reference (a std::map keyed by (deadline, insertion number)), 100,000
// random inserts, cancels and advances fire the same timers in the same order, and so do
// 50,000 more whose fires insert and cancel timers at random. All seeds are fixed.
#include "time/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using weft::detail::timer_entry;
using weft::detail::timer_wheel;

constexpr std::uint64_t max_time = std::numeric_limits<std::uint64_t>::max();
// 3652.5 days.
constexpr std::uint64_t ten_years_ns = 36525ULL * 86'400ULL * 1'000'000'000ULL / 10ULL;

// A timer that appends its id to a shared log when it fires.
struct logged_timer : timer_entry {
    int id = 0;
    std::vector<int>* log = nullptr;
};

void log_firing(timer_entry& entry) noexcept {
    auto& timer = static_cast<logged_timer&>(entry);
    timer.log->push_back(timer.id);
}

// `count` timers with ids 0..count-1 logging to `log`.
std::vector<logged_timer> make_timers(std::size_t count, std::vector<int>& log) {
    std::vector<logged_timer> timers(count);
    for (std::size_t index = 0; index < count; ++index) {
        timers[index].id = static_cast<int>(index);
        timers[index].log = &log;
        timers[index].fire = log_firing;
    }
    return timers;
}

void insert_at(timer_wheel& wheel, logged_timer& timer, std::uint64_t deadline) {
    timer.deadline = deadline;
    wheel.insert(timer);
}

TEST(TimerWheel, StartsEmpty) {
    timer_wheel wheel(42);
    EXPECT_EQ(wheel.now(), 42U);
    EXPECT_EQ(wheel.size(), 0U);
    EXPECT_EQ(wheel.next_deadline(), std::nullopt);
    EXPECT_EQ(wheel.advance(1'000'000), 0U);
    EXPECT_EQ(wheel.now(), 1'000'000U);
}

TEST(TimerWheel, EntryIsSmall) {
    EXPECT_LE(sizeof(timer_entry), 40U);
}

// The insertion counter is kept modulo 2^48; these start it just short of the wrap.
constexpr std::uint64_t sequence_wrap = std::uint64_t{1} << 48;

TEST(TimerWheel, FiresAtExactlyItsDeadline) {
    // Deadlines on and around each level's boundaries, from several starting clocks.
    std::vector<std::uint64_t> offsets;
    for (unsigned shift = 0; shift < 48; shift += 3) {
        const std::uint64_t power = std::uint64_t{1} << shift;
        offsets.push_back(power);
        offsets.push_back(power + 1);
        if (power > 1) {
            offsets.push_back(power - 1);
        }
    }
    offsets.push_back(123'456'789);
    for (const std::uint64_t start : {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{4095},
                                      std::uint64_t{1'000'000'007}, std::uint64_t{1} << 40}) {
        for (const std::uint64_t offset : offsets) {
            std::vector<int> log;
            auto timers = make_timers(1, log);
            timer_wheel wheel(start);
            insert_at(wheel, timers[0], start + offset);
            EXPECT_TRUE(timer_wheel::pending(timers[0]));
            EXPECT_EQ(wheel.next_deadline(), start + offset);
            EXPECT_EQ(wheel.advance(start + offset - 1), 0U) << start << " + " << offset;
            EXPECT_TRUE(log.empty());
            EXPECT_EQ(wheel.next_deadline(), start + offset);
            EXPECT_EQ(wheel.advance(start + offset), 1U) << start << " + " << offset;
            EXPECT_EQ(log, std::vector<int>{0});
            EXPECT_FALSE(timer_wheel::pending(timers[0]));
            EXPECT_EQ(wheel.size(), 0U);
            EXPECT_EQ(wheel.next_deadline(), std::nullopt);
        }
    }
}

TEST(TimerWheel, FiresInDeadlineOrder) {
    std::vector<int> log;
    auto timers = make_timers(1000, log);
    std::mt19937_64 random(7);
    std::uniform_int_distribution<std::uint64_t> deadline(1, 10'000'000);
    timer_wheel wheel;
    std::vector<std::pair<std::uint64_t, int>> expected;
    for (auto& timer : timers) {
        insert_at(wheel, timer, deadline(random));
        expected.emplace_back(timer.deadline, timer.id);
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(wheel.advance(10'000'000), 1000U);
    ASSERT_EQ(log.size(), expected.size());
    for (std::size_t index = 0; index < log.size(); ++index) {
        EXPECT_EQ(log[index], expected[index].second);
    }
}

// Deadlines packed into a few 64 ns windows (level-1 slots) in shuffled order, some equal:
// whether advance() takes such a slot whole or 1 ns at a time, the order is the same.
TEST(TimerWheel, DenseDeadlinesFireInOrderByAnyStep) {
    for (const std::uint64_t step : {std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{64},
                                     std::uint64_t{1'000}, std::uint64_t{1'000'000}}) {
        std::vector<int> log;
        auto timers = make_timers(500, log);
        std::mt19937_64 random(29);
        timer_wheel wheel(10'000);
        std::vector<std::pair<std::uint64_t, int>> expected;
        for (auto& timer : timers) {
            insert_at(wheel, timer, 20'000 + random() % 256);
            expected.emplace_back(timer.deadline, timer.id);
        }
        std::sort(expected.begin(), expected.end());
        while (wheel.size() > 0) {
            wheel.advance(wheel.now() + step);
        }
        ASSERT_EQ(log.size(), expected.size());
        for (std::size_t index = 0; index < log.size(); ++index) {
            ASSERT_EQ(log[index], expected[index].second) << "step " << step;
        }
    }
}

TEST(TimerWheel, EqualDeadlinesFireInInsertionOrderAcrossLevels) {
    // At level 5 seen from 0, level 4 from 4'990'000'000, level 0 from deadline - 10.
    constexpr std::uint64_t deadline = 5'000'000'040;
    std::vector<int> log;
    auto timers = make_timers(6, log);
    timer_wheel wheel;
    insert_at(wheel, timers[0], deadline); // travels down from level 5
    wheel.advance(4'990'000'000);
    insert_at(wheel, timers[1], deadline); // starts at level 4
    insert_at(wheel, timers[2], deadline + 1);
    wheel.advance(deadline - 10);
    insert_at(wheel, timers[3], deadline);      // straight into level 0
    insert_at(wheel, timers[4], deadline - 20); // overdue: fires first
    insert_at(wheel, timers[5], deadline);
    EXPECT_EQ(wheel.next_deadline(), deadline - 20);
    EXPECT_EQ(wheel.advance(deadline + 1), 6U);
    EXPECT_EQ(log, (std::vector<int>{4, 0, 1, 3, 5, 2}));
}

TEST(TimerWheel, EqualDeadlinesFireInInsertionOrderByOneBigStep) {
    std::vector<int> log;
    auto timers = make_timers(300, log);
    timer_wheel wheel;
    // Three equal-deadline groups, their members inserted at different clocks.
    std::uint64_t clock = 0;
    for (auto& timer : timers) {
        insert_at(wheel, timer, ten_years_ns + static_cast<std::uint64_t>(timer.id % 3));
        clock += 1'000'000'007;
        wheel.advance(clock);
    }
    EXPECT_EQ(wheel.advance(max_time), 300U);
    std::vector<int> expected;
    for (int group = 0; group < 3; ++group) {
        for (int id = group; id < 300; id += 3) {
            expected.push_back(id);
        }
    }
    EXPECT_EQ(log, expected);
}

TEST(TimerWheel, EqualDeadlinesFireInInsertionOrderAcrossTheCounterWrap) {
    constexpr std::uint64_t deadline = 5'000'000'040;
    std::vector<int> log;
    auto timers = make_timers(6, log);
    timer_wheel wheel(0, sequence_wrap - 3);
    insert_at(wheel, timers[0], deadline); // the last numbers before the wrap
    insert_at(wheel, timers[1], deadline + 1);
    wheel.advance(4'990'000'000);
    insert_at(wheel, timers[2], deadline);
    insert_at(wheel, timers[3], deadline); // numbered 0, after the wrap
    wheel.advance(deadline - 10);
    insert_at(wheel, timers[4], deadline + 1);
    insert_at(wheel, timers[5], deadline);
    EXPECT_EQ(wheel.advance(deadline + 1), 6U);
    EXPECT_EQ(log, (std::vector<int>{0, 2, 3, 5, 1, 4}));
}

TEST(TimerWheel, CanceledEntryNeverFires) {
    std::vector<int> log;
    auto timers = make_timers(4, log);
    timer_wheel wheel;
    insert_at(wheel, timers[0], 100);
    insert_at(wheel, timers[1], 100);
    insert_at(wheel, timers[2], 100);
    insert_at(wheel, timers[3], 5'000);
    wheel.cancel(timers[1]); // middle of a slot list
    wheel.cancel(timers[3]); // alone in its slot
    EXPECT_FALSE(timer_wheel::pending(timers[1]));
    EXPECT_FALSE(timer_wheel::pending(timers[3]));
    EXPECT_EQ(wheel.size(), 2U);
    wheel.cancel(timers[1]); // not pending: nothing happens
    EXPECT_EQ(wheel.size(), 2U);
    EXPECT_EQ(wheel.advance(max_time), 2U);
    EXPECT_EQ(log, (std::vector<int>{0, 2}));
}

TEST(TimerWheel, CancelOfLastEntryInSlotClearsItsBit) {
    std::vector<int> log;
    auto timers = make_timers(4, log);
    timer_wheel wheel(1'000);
    insert_at(wheel, timers[0], 1'010);     // level 0
    insert_at(wheel, timers[1], 1'020);     // level 0, another slot
    insert_at(wheel, timers[2], 300'000);   // level 3
    insert_at(wheel, timers[3], 9'000'000); // level 3, another slot
    EXPECT_EQ(wheel.next_deadline(), 1'010U);
    wheel.cancel(timers[0]);
    EXPECT_EQ(wheel.next_deadline(), 1'020U);
    wheel.cancel(timers[1]);
    EXPECT_EQ(wheel.next_deadline(), 300'000U);
    wheel.cancel(timers[2]);
    EXPECT_EQ(wheel.next_deadline(), 9'000'000U);
    wheel.cancel(timers[3]);
    EXPECT_EQ(wheel.next_deadline(), std::nullopt);
    insert_at(wheel, timers[2], 700'000); // the level again, with the emptied slots clear
    EXPECT_EQ(wheel.next_deadline(), 700'000U);
    EXPECT_EQ(wheel.advance(max_time), 1U);
    EXPECT_EQ(log, std::vector<int>{2});
}

TEST(TimerWheel, CancelOfOverdueEntry) {
    std::vector<int> log;
    auto timers = make_timers(2, log);
    timer_wheel wheel(1'000);
    insert_at(wheel, timers[0], 10);
    insert_at(wheel, timers[1], 20);
    EXPECT_EQ(wheel.next_deadline(), 10U);
    wheel.cancel(timers[0]);
    EXPECT_EQ(wheel.next_deadline(), 20U);
    EXPECT_EQ(wheel.advance(1'000), 1U);
    EXPECT_EQ(log, std::vector<int>{1});
}

TEST(TimerWheel, NextDeadlineIsExact) {
    std::vector<int> log;
    auto timers = make_timers(64, log);
    std::mt19937_64 random(11);
    for (int round = 0; round < 2'000; ++round) {
        const std::uint64_t start = random() >> (random() % 64);
        timer_wheel wheel(start);
        std::multiset<std::uint64_t> pending;
        const std::size_t count = 1 + random() % timers.size();
        for (std::size_t index = 0; index < count; ++index) {
            // Offsets of every magnitude, some overdue, clamped to the clock's range.
            const std::uint64_t offset = random() >> (random() % 64);
            const std::uint64_t deadline = random() % 8 == 0
                                               ? start - std::min(start, offset)
                                               : start + std::min(max_time - start, offset);
            insert_at(wheel, timers[index], deadline);
            pending.insert(deadline);
            ASSERT_EQ(wheel.next_deadline(), *pending.begin());
        }
        for (std::size_t index = 0; index < count; index += 2) {
            wheel.cancel(timers[index]);
            pending.erase(pending.find(timers[index].deadline));
            ASSERT_EQ(wheel.next_deadline(),
                      pending.empty() ? std::nullopt : std::optional(*pending.begin()));
        }
        while (!pending.empty()) {
            // Either exactly to the earliest deadline, or past it by any span.
            const std::uint64_t next = *pending.begin();
            const std::uint64_t span = random() % 2 == 0 ? 0 : random() >> (random() % 64);
            wheel.advance(next + std::min(max_time - next, span));
            pending.erase(pending.begin(), pending.upper_bound(wheel.now()));
            ASSERT_EQ(wheel.next_deadline(),
                      pending.empty() ? std::nullopt : std::optional(*pending.begin()));
        }
        ASSERT_EQ(wheel.size(), 0U);
    }
}

TEST(TimerWheel, OverdueDeadlinesFireOnNextAdvance) {
    std::vector<int> log;
    auto timers = make_timers(4, log);
    timer_wheel wheel(1'000);
    insert_at(wheel, timers[0], 500);
    insert_at(wheel, timers[1], 1'000);
    insert_at(wheel, timers[2], 0);
    insert_at(wheel, timers[3], 500);
    EXPECT_EQ(wheel.next_deadline(), 0U);
    EXPECT_EQ(wheel.advance(999), 4U); // earlier than now(): counts as now()
    EXPECT_EQ(wheel.now(), 1'000U);
    EXPECT_EQ(log, (std::vector<int>{2, 0, 3, 1}));
}

TEST(TimerWheel, YearsAwayByOneStep) {
    std::vector<int> log;
    auto timers = make_timers(3, log);
    timer_wheel wheel(123);
    insert_at(wheel, timers[0], 123 + ten_years_ns);
    insert_at(wheel, timers[1], max_time);
    insert_at(wheel, timers[2], max_time - 1);
    EXPECT_EQ(wheel.next_deadline(), 123 + ten_years_ns);
    EXPECT_EQ(wheel.advance(122 + ten_years_ns), 0U);
    EXPECT_EQ(wheel.advance(123 + ten_years_ns), 1U);
    EXPECT_EQ(wheel.next_deadline(), max_time - 1);
    EXPECT_EQ(wheel.advance(max_time - 2), 0U);
    EXPECT_EQ(wheel.advance(max_time - 1), 1U);
    EXPECT_EQ(wheel.advance(max_time), 1U);
    EXPECT_EQ(log, (std::vector<int>{0, 2, 1}));
}

// Advances by random steps of up to `max_step` until `last`, checking that each timer fires
// in the first advance that reaches its deadline. `timers` are in deadline order.
void expect_fired_on_time(timer_wheel& wheel, std::vector<logged_timer>& timers,
                          std::vector<int>& log, std::uint64_t max_step, std::uint64_t last,
                          std::uint64_t seed) {
    std::mt19937_64 random(seed);
    std::size_t advances = 0;
    while (wheel.now() < last) {
        const std::uint64_t step = 1 + random() % max_step;
        const std::uint64_t target = step > last - wheel.now() ? last : wheel.now() + step;
        const std::uint64_t before = wheel.now();
        log.clear();
        wheel.advance(target);
        ++advances;
        std::vector<int> expected;
        for (const auto& timer : timers) {
            if (timer.deadline > before && timer.deadline <= target) {
                expected.push_back(timer.id);
            }
        }
        ASSERT_EQ(log, expected) << "advance from " << before << " to " << target;
    }
    EXPECT_GT(advances, 1000U);
    EXPECT_EQ(wheel.size(), 0U);
}

TEST(TimerWheel, YearsAwayBySmallSteps) {
    std::vector<int> log;
    auto timers = make_timers(5, log);
    timer_wheel wheel;
    // Deadlines in increasing order, so the log order is the id order.
    insert_at(wheel, timers[0], 1);
    insert_at(wheel, timers[1], ten_years_ns / 3);
    insert_at(wheel, timers[2], ten_years_ns - 1);
    insert_at(wheel, timers[3], ten_years_ns);
    insert_at(wheel, timers[4], ten_years_ns + 1);
    expect_fired_on_time(wheel, timers, log, ten_years_ns / 2'000, ten_years_ns + 5, 3);
}

TEST(TimerWheel, NearTheEndOfTimeBySmallSteps) {
    std::vector<int> log;
    auto timers = make_timers(6, log);
    constexpr std::uint64_t start = max_time - 5'000'000;
    timer_wheel wheel(start);
    insert_at(wheel, timers[0], start + 1);
    insert_at(wheel, timers[1], start + 4'096);
    insert_at(wheel, timers[2], max_time - 4'096);
    insert_at(wheel, timers[3], max_time - 64);
    insert_at(wheel, timers[4], max_time - 1);
    insert_at(wheel, timers[5], max_time);
    expect_fired_on_time(wheel, timers, log, 3'000, max_time, 5);
}

TEST(TimerWheel, FromZeroToTheEndOfTimeBySmallSteps) {
    std::vector<int> log;
    auto timers = make_timers(4, log);
    timer_wheel wheel;
    insert_at(wheel, timers[0], std::uint64_t{1} << 62);
    insert_at(wheel, timers[1], std::uint64_t{1} << 63);
    insert_at(wheel, timers[2], (std::uint64_t{1} << 63) + 1);
    insert_at(wheel, timers[3], max_time);
    expect_fired_on_time(wheel, timers, log, max_time / 2'000, max_time, 9);
}

// A timer whose fire inserts one timer and cancels another.
struct meddling_timer : logged_timer {
    timer_wheel* wheel = nullptr;
    logged_timer* to_insert = nullptr;
    std::uint64_t insert_deadline = 0;
    logged_timer* to_cancel = nullptr;
};

TEST(TimerWheel, FireMayInsertAndCancelOthers) {
    std::vector<int> log;
    auto timers = make_timers(6, log);
    timer_wheel wheel;
    meddling_timer meddler;
    meddler.id = 100;
    meddler.log = &log;
    meddler.wheel = &wheel;
    meddler.to_insert = &timers[0];
    meddler.insert_deadline = 50; // already due when inserted
    meddler.to_cancel = &timers[2];
    meddler.fire = [](timer_entry& entry) noexcept {
        auto& self = static_cast<meddling_timer&>(entry);
        self.log->push_back(self.id);
        self.to_insert->deadline = self.insert_deadline;
        self.wheel->insert(*self.to_insert);
        self.wheel->cancel(*self.to_cancel);
    };
    insert_at(wheel, timers[1], 80);
    insert_at(wheel, meddler, 100);
    insert_at(wheel, timers[2], 100); // due in the same batch, canceled before its turn
    insert_at(wheel, timers[3], 150);
    insert_at(wheel, timers[4], 1'000);
    EXPECT_EQ(wheel.advance(200), 4U);
    // 0 is inserted during the advance with an overdue deadline: after the batch.
    EXPECT_EQ(log, (std::vector<int>{1, 100, 3, 0}));
    EXPECT_FALSE(timer_wheel::pending(timers[2]));
    EXPECT_EQ(wheel.size(), 1U);
    EXPECT_EQ(wheel.next_deadline(), 1'000U);
}

// A timer whose fire inserts a list of timers with their deadlines, in the order given.
struct spawning_timer : logged_timer {
    timer_wheel* wheel = nullptr;
    std::vector<std::pair<logged_timer*, std::uint64_t>> to_insert;
};

// Overdue entries inserted by a fire wait for the batch before them, whatever their numbers.
void expect_inserted_by_fire_after_the_batch(std::uint64_t first_sequence) {
    std::vector<int> log;
    auto timers = make_timers(5, log);
    timer_wheel wheel(0, first_sequence);
    spawning_timer spawner;
    spawner.id = 100;
    spawner.log = &log;
    spawner.wheel = &wheel;
    spawner.to_insert = {{&timers[0], 200}, {&timers[1], 60}, {&timers[2], 50}, {&timers[3], 60}};
    spawner.fire = [](timer_entry& entry) noexcept {
        auto& self = static_cast<spawning_timer&>(entry);
        self.log->push_back(self.id);
        for (auto [timer, deadline] : self.to_insert) {
            timer->deadline = deadline;
            self.wheel->insert(*timer);
        }
    };
    insert_at(wheel, spawner, 100);
    insert_at(wheel, timers[4], 150);
    EXPECT_EQ(wheel.advance(200), 6U);
    EXPECT_EQ(log, (std::vector<int>{100, 4, 2, 1, 3, 0}));
}

TEST(TimerWheel, EntriesInsertedByFireAsOverdueFireInOrderAfterTheBatch) {
    expect_inserted_by_fire_after_the_batch(0);
}

TEST(TimerWheel, EntriesInsertedByFireAfterTheCounterWrapStillWaitForTheBatch) {
    expect_inserted_by_fire_after_the_batch(sequence_wrap - 2);
}

// A spawning timer that also cancels one entry.
struct cancelling_spawner : spawning_timer {
    logged_timer* to_cancel = nullptr;
};

TEST(TimerWheel, FireThatCancelsTheBatchsLastEntryStillEndsTheBatchThere) {
    std::vector<int> log;
    auto timers = make_timers(4, log);
    timer_wheel wheel;
    cancelling_spawner spawner;
    spawner.id = 100;
    spawner.log = &log;
    spawner.wheel = &wheel;
    spawner.to_insert = {{&timers[0], 60}, {&timers[1], 50}}; // overdue, out of order
    spawner.to_cancel = &timers[3];
    spawner.fire = [](timer_entry& entry) noexcept {
        auto& self = static_cast<cancelling_spawner&>(entry);
        self.log->push_back(self.id);
        for (auto [timer, deadline] : self.to_insert) {
            timer->deadline = deadline;
            self.wheel->insert(*timer);
        }
        self.wheel->cancel(*self.to_cancel);
    };
    insert_at(wheel, spawner, 100);
    insert_at(wheel, timers[2], 120);
    insert_at(wheel, timers[3], 150); // the batch's last entry, cancelled by the spawner
    EXPECT_EQ(wheel.advance(200), 4U);
    // The batch ends after 2; the inserted pair is sorted before it fires.
    EXPECT_EQ(log, (std::vector<int>{100, 2, 1, 0}));
    EXPECT_FALSE(timer_wheel::pending(timers[3]));
    EXPECT_EQ(wheel.size(), 0U);
}

// A timer that fires `remaining` more times, `period` apart, by inserting itself again.
struct periodic_timer : logged_timer {
    timer_wheel* wheel = nullptr;
    std::uint64_t period = 0;
    int remaining = 0;
};

TEST(TimerWheel, FireMayInsertItselfAgain) {
    std::vector<int> log;
    timer_wheel wheel;
    periodic_timer periodic;
    periodic.id = 7;
    periodic.log = &log;
    periodic.wheel = &wheel;
    periodic.period = 1'000;
    periodic.remaining = 5;
    periodic.fire = [](timer_entry& entry) noexcept {
        auto& self = static_cast<periodic_timer&>(entry);
        self.log->push_back(self.id);
        if (--self.remaining > 0) {
            self.deadline += self.period;
            self.wheel->insert(self);
        }
    };
    insert_at(wheel, periodic, 1'000);
    EXPECT_EQ(wheel.advance(2'500), 2U);
    EXPECT_EQ(wheel.next_deadline(), 3'000U);
    EXPECT_EQ(wheel.advance(1'000'000), 3U);
    EXPECT_EQ(log, std::vector<int>(5, 7));
    EXPECT_EQ(wheel.size(), 0U);
}

TEST(TimerWheel, MillionInsertCancelCyclesLeaveItEmpty) {
    std::vector<int> log;
    auto timers = make_timers(16, log);
    std::mt19937_64 random(13);
    timer_wheel wheel(1'000'000);
    for (int cycle = 0; cycle < 1'000'000; ++cycle) {
        auto& timer = timers[static_cast<std::size_t>(cycle) % timers.size()];
        insert_at(wheel, timer, wheel.now() + (random() >> (1 + random() % 63)));
        wheel.cancel(timer);
        if (cycle % 100'000 == 0) {
            wheel.advance(wheel.now() + 12'345);
        }
    }
    EXPECT_EQ(wheel.size(), 0U);
    EXPECT_EQ(wheel.next_deadline(), std::nullopt);
    EXPECT_EQ(wheel.advance(max_time), 0U);
    EXPECT_TRUE(log.empty());
}

// The reference: pending timers keyed by (deadline, insertion number), which is unique,
// fired in key order.
class reference_wheel {
public:
    explicit reference_wheel(std::uint64_t now) : now_(now) {}

    void insert(std::uint64_t deadline, int id) {
        const key inserted(deadline, next_sequence_++);
        pending_.emplace(inserted, id);
        keys_.emplace(id, inserted);
    }
    void cancel(int id) {
        pending_.erase(keys_.at(id));
        keys_.erase(id);
    }
    // Fires, in key order, every timer due by `now`, calling on_fire(id), which may insert
    // and cancel; timers it inserts due by `now` fire after the batch that was due before.
    template <class OnFire>
    void advance(std::uint64_t now, OnFire on_fire) {
        now_ = std::max(now_, now);
        for (;;) {
            std::vector<key> batch;
            for (auto due = pending_.begin(); due != pending_.end() && due->first.first <= now_;
                 ++due) {
                batch.push_back(due->first);
            }
            if (batch.empty()) {
                return;
            }
            for (const key& due : batch) {
                const auto found = pending_.find(due);
                if (found == pending_.end()) {
                    continue; // canceled by an earlier fire of this batch
                }
                const int id = found->second;
                keys_.erase(id);
                pending_.erase(found);
                on_fire(id);
            }
        }
    }
    std::vector<int> advance(std::uint64_t now) {
        std::vector<int> fired;
        advance(now, [&fired](int id) { fired.push_back(id); });
        return fired;
    }
    bool pending(int id) const { return keys_.contains(id); }
    std::optional<std::uint64_t> next_deadline() const {
        return pending_.empty() ? std::nullopt : std::optional(pending_.begin()->first.first);
    }
    std::size_t size() const { return pending_.size(); }
    std::uint64_t now() const { return now_; }

private:
    using key = std::pair<std::uint64_t, std::uint64_t>;
    std::uint64_t now_;
    std::uint64_t next_sequence_ = 0;
    std::map<key, int> pending_;
    std::map<int, key> keys_;
};

TEST(TimerWheel, MatchesReferenceOnRandomOperations) {
    std::vector<int> log;
    auto timers = make_timers(2'000, log);
    std::mt19937_64 random(17);
    constexpr std::uint64_t start = 987'654'321;
    timer_wheel wheel(start);
    reference_wheel reference(start);
    std::vector<int> pending_ids;
    std::vector<int> free_ids;
    for (const auto& timer : timers) {
        free_ids.push_back(timer.id);
    }
    // A random span whose magnitude is itself random: mostly near, sometimes years.
    const auto random_span = [&random](unsigned max_bits) {
        const unsigned bits = static_cast<unsigned>(random() % (max_bits + 1));
        return bits == 0 ? 0 : random() >> (64 - bits);
    };
    for (int operation = 0; operation < 100'000; ++operation) {
        const unsigned choice = static_cast<unsigned>(random() % 100);
        if (choice < 50 && !free_ids.empty()) {
            const std::size_t pick = random() % free_ids.size();
            const int id = free_ids[pick];
            free_ids[pick] = free_ids.back();
            free_ids.pop_back();
            const std::uint64_t now = wheel.now();
            std::uint64_t deadline = now + std::min(max_time - now, random_span(40));
            if (choice < 5) {
                deadline = now - std::min(now, random_span(20)); // overdue
            } else if (choice < 10) {
                deadline = now + std::min(max_time - now, random_span(63)); // years away
            } else if (choice < 20 && !pending_ids.empty()) {
                // The deadline of a pending timer: equal deadlines from different levels.
                deadline =
                    timers[static_cast<std::size_t>(pending_ids[random() % pending_ids.size()])]
                        .deadline;
            }
            insert_at(wheel, timers[static_cast<std::size_t>(id)], deadline);
            reference.insert(deadline, id);
            pending_ids.push_back(id);
        } else if (choice < 75 && !pending_ids.empty()) {
            const std::size_t pick = random() % pending_ids.size();
            const int id = pending_ids[pick];
            wheel.cancel(timers[static_cast<std::size_t>(id)]);
            reference.cancel(id);
            pending_ids[pick] = pending_ids.back();
            pending_ids.pop_back();
            free_ids.push_back(id);
        } else {
            const std::uint64_t now = wheel.now();
            const std::uint64_t target = now + std::min(max_time - now, random_span(36));
            log.clear();
            const std::size_t fired = wheel.advance(target);
            const std::vector<int> expected = reference.advance(target);
            ASSERT_EQ(log, expected) << "operation " << operation;
            ASSERT_EQ(fired, expected.size());
            ASSERT_EQ(wheel.now(), reference.now());
            for (const int id : expected) {
                free_ids.push_back(id);
            }
            std::erase_if(pending_ids, [&](int id) {
                return !timer_wheel::pending(timers[static_cast<std::size_t>(id)]);
            });
        }
        ASSERT_EQ(wheel.size(), reference.size()) << "operation " << operation;
        ASSERT_EQ(wheel.next_deadline(), reference.next_deadline()) << "operation " << operation;
    }
    log.clear();
    EXPECT_EQ(wheel.advance(max_time), reference.size());
    EXPECT_EQ(log, reference.advance(max_time));
}

// What one fire did to the wheel, for the reference to do the same.
struct fire_record {
    int id = 0;
    int inserted = -1; // the id it inserted, or -1
    std::uint64_t deadline = 0;
    int canceled = -1; // the id it canceled, or -1
};

struct reentrant_timer;

struct reentrant_context {
    timer_wheel* wheel = nullptr;
    std::vector<reentrant_timer>* timers = nullptr;
    std::mt19937_64 random{19};
    std::vector<fire_record> records;
};

// A timer whose fire, at random, inserts a timer that is not pending (itself included,
// some already due) and cancels one that is, recording what it did.
struct reentrant_timer : timer_entry {
    int id = 0;
    reentrant_context* context = nullptr;
};

void fire_reentrant(timer_entry& entry) noexcept {
    auto& timer = static_cast<reentrant_timer&>(entry);
    reentrant_context& context = *timer.context;
    std::vector<reentrant_timer>& timers = *context.timers;
    std::mt19937_64& random = context.random;
    fire_record record;
    record.id = timer.id;
    if (random() % 3 == 0) {
        reentrant_timer& other = timers[random() % timers.size()];
        if (!timer_wheel::pending(other)) {
            const std::uint64_t now = context.wheel->now();
            other.deadline = random() % 5 == 0 ? now - std::min(now, random() % 1'000)
                                               : now + 1 + random() % 100'000;
            context.wheel->insert(other);
            record.inserted = other.id;
            record.deadline = other.deadline;
        }
    }
    if (random() % 3 == 0) {
        reentrant_timer& other = timers[random() % timers.size()];
        if (timer_wheel::pending(other)) {
            context.wheel->cancel(other);
            record.canceled = other.id;
        }
    }
    context.records.push_back(record);
}

TEST(TimerWheel, MatchesReferenceWhenFiresInsertAndCancel) {
    constexpr std::uint64_t start = 5'000;
    timer_wheel wheel(start);
    reference_wheel reference(start);
    std::vector<reentrant_timer> timers(1'000);
    reentrant_context context;
    context.wheel = &wheel;
    context.timers = &timers;
    for (std::size_t index = 0; index < timers.size(); ++index) {
        timers[index].id = static_cast<int>(index);
        timers[index].context = &context;
        timers[index].fire = fire_reentrant;
    }
    std::mt19937_64 random(23);
    std::size_t fired_total = 0;
    for (int operation = 0; operation < 50'000; ++operation) {
        const unsigned choice = static_cast<unsigned>(random() % 100);
        reentrant_timer& timer = timers[random() % timers.size()];
        if (choice < 45) {
            if (!timer_wheel::pending(timer)) {
                const std::uint64_t now = wheel.now();
                timer.deadline = choice < 5 ? now - std::min(now, random() % 10'000)
                                            : now + random() % 1'000'000;
                wheel.insert(timer);
                reference.insert(timer.deadline, timer.id);
            }
        } else if (choice < 65) {
            if (timer_wheel::pending(timer)) {
                wheel.cancel(timer);
                reference.cancel(timer.id);
            }
        } else {
            const std::uint64_t target = wheel.now() + random() % 200'000;
            context.records.clear();
            const std::size_t fired = wheel.advance(target);
            std::size_t replayed = 0;
            bool diverged = false;
            reference.advance(target, [&](int id) {
                if (diverged || replayed == context.records.size() ||
                    context.records[replayed].id != id) {
                    diverged = true;
                    return;
                }
                const fire_record& record = context.records[replayed++];
                if (record.inserted >= 0) {
                    reference.insert(record.deadline, record.inserted);
                }
                if (record.canceled >= 0) {
                    reference.cancel(record.canceled);
                }
            });
            ASSERT_FALSE(diverged) << "operation " << operation;
            ASSERT_EQ(replayed, context.records.size()) << "operation " << operation;
            ASSERT_EQ(fired, replayed);
            fired_total += fired;
        }
        ASSERT_EQ(wheel.size(), reference.size()) << "operation " << operation;
        ASSERT_EQ(wheel.next_deadline(), reference.next_deadline()) << "operation " << operation;
    }
    EXPECT_GT(fired_total, 10'000U);
}

} // namespace
