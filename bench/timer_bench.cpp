// What a timer costs in weft's timing wheel (runtime/time/timer_wheel.hpp), next to a binary
// min-heap in the same binary: a std::priority_queue of (deadline, sequence, timer*), the
// structure of Go's and many other runtimes' timers. With N = 1,000, 100,000 and 1,000,000
// timers pending, deadlines drawn 1-50 ms ahead from a fixed seed, each benchmark reports
// ns_per_timer:
//   insert       inserts a batch of min(1,000, N/2) more timers into a structure holding N
//   cancel       cancels a batch of min(1,000, N/2) of the N pending, picked at random
//   insert_fire  inserts N timers, then advances the clock by random steps of 1 us..1 ms
//                until every one has fired (each fire is one indirect call)
// The heap cancels lazily, like Go: cancel marks the timer, and its node stays in the heap
// until it reaches the top, where the pop drops it. So the heap's cancel is one store, and it
// pays later, in pops of dead nodes and in a heap that stays larger. Only the operations
// named are timed (manual time); putting the N pending back between iterations is not.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <queue>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "time/timer_wheel.hpp"

namespace {

constexpr std::uint64_t start_time = 1'000'000'000'000; // 1,000 s of uptime
constexpr std::uint64_t min_ahead = 1'000'000;          // 1 ms
constexpr std::uint64_t max_ahead = 50'000'000;         // 50 ms
constexpr std::uint64_t min_step = 1'000;               // 1 us
constexpr std::uint64_t max_step = 1'000'000;           // 1 ms

std::size_t fired_total = 0;

// The timing wheel under test.
class wheel {
public:
    struct timer : weft::detail::timer_entry {
        timer() {
            fire = [](weft::detail::timer_entry&) noexcept { ++fired_total; };
        }
    };

    void insert(timer& entry, std::uint64_t deadline) {
        entry.deadline = deadline;
        wheel_.insert(entry);
    }
    void cancel(timer& entry) { wheel_.cancel(entry); }
    std::size_t advance(std::uint64_t now) { return wheel_.advance(now); }
    std::uint64_t now() const { return wheel_.now(); }

    // Puts back the state before `batch` was inserted into `pending` timers.
    void undo_inserts(std::vector<timer>& batch, std::size_t) {
        for (timer& entry : batch) {
            wheel_.cancel(entry);
        }
    }
    // Puts a canceled timer back, with its deadline.
    void revive(timer& entry) { wheel_.insert(entry); }

private:
    weft::detail::timer_wheel wheel_{start_time};
};

// The baseline: a binary min-heap with lazy cancellation.
class heap {
public:
    struct timer {
        std::uint64_t deadline = 0;
        void (*fire)(timer&) noexcept = [](timer&) noexcept { ++fired_total; };
        // The sequence of its newest node; only that node, and only if not canceled, is live.
        std::uint64_t sequence = 0;
        bool canceled = true;
    };

    void insert(timer& entry, std::uint64_t deadline) {
        entry.deadline = deadline;
        entry.sequence = ++next_sequence_;
        entry.canceled = false;
        nodes_.push({deadline, entry.sequence, &entry});
    }
    void cancel(timer& entry) { entry.canceled = true; }
    std::size_t advance(std::uint64_t now) {
        now_ = std::max(now_, now);
        std::size_t fired = 0;
        while (!nodes_.empty() && nodes_.top().deadline <= now_) {
            const node top = nodes_.top();
            nodes_.pop();
            if (top.sequence == top.entry->sequence && !top.entry->canceled) {
                top.entry->canceled = true;
                top.entry->fire(*top.entry);
                ++fired;
            }
        }
        return fired;
    }
    std::uint64_t now() const { return now_; }

    // Drops the last nodes of the heap's array, which leaves a heap of `pending` nodes.
    void undo_inserts(std::vector<timer>& batch, std::size_t pending) {
        for (timer& entry : batch) {
            entry.canceled = true;
        }
        nodes_.truncate(pending);
    }
    void revive(timer& entry) { entry.canceled = false; }

private:
    struct node {
        std::uint64_t deadline;
        std::uint64_t sequence;
        timer* entry;
    };
    struct fires_later {
        bool operator()(const node& a, const node& b) const {
            return a.deadline > b.deadline || (a.deadline == b.deadline && a.sequence > b.sequence);
        }
    };
    struct node_heap : std::priority_queue<node, std::vector<node>, fires_later> {
        void truncate(std::size_t size) { c.resize(size); }
    };

    node_heap nodes_;
    std::uint64_t now_ = start_time;
    std::uint64_t next_sequence_ = 0;
};

std::vector<std::uint64_t> random_values(std::size_t count, std::uint64_t low, std::uint64_t high,
                                         std::uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<std::uint64_t> value(low, high);
    std::vector<std::uint64_t> values(count);
    for (std::uint64_t& v : values) {
        v = value(random);
    }
    return values;
}

std::size_t pending_of(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

std::size_t batch_of(std::size_t pending) {
    return std::min<std::size_t>(1'000, pending / 2);
}

// Times the enclosed operations of each iteration and reports ns per timer.
class operation_timer {
public:
    template <class Operations>
    void time(benchmark::State& state, std::size_t timers, Operations operations) {
        const auto start = std::chrono::steady_clock::now();
        operations();
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        state.SetIterationTime(elapsed.count());
        seconds_ += elapsed.count();
        timers_ += static_cast<double>(timers);
    }
    void report(benchmark::State& state) const {
        if (timers_ > 0) {
            state.counters["ns_per_timer"] = benchmark::Counter(seconds_ * 1e9 / timers_);
        }
    }

private:
    double seconds_ = 0;
    double timers_ = 0;
};

template <class Structure>
void fill(Structure& structure, std::vector<typename Structure::timer>& timers) {
    const auto ahead = random_values(timers.size(), min_ahead, max_ahead, 1);
    for (std::size_t index = 0; index < timers.size(); ++index) {
        structure.insert(timers[index], structure.now() + ahead[index]);
    }
}

template <class Structure>
void BM_insert(benchmark::State& state) {
    const std::size_t pending = pending_of(state);
    Structure structure;
    std::vector<typename Structure::timer> timers(pending);
    fill(structure, timers);
    std::vector<typename Structure::timer> batch(batch_of(pending));
    const auto ahead = random_values(batch.size(), min_ahead, max_ahead, 2);
    operation_timer timer;
    for (auto _ : state) {
        timer.time(state, batch.size(), [&] {
            for (std::size_t index = 0; index < batch.size(); ++index) {
                structure.insert(batch[index], start_time + ahead[index]);
            }
        });
        structure.undo_inserts(batch, pending);
    }
    timer.report(state);
}

template <class Structure>
void BM_cancel(benchmark::State& state) {
    const std::size_t pending = pending_of(state);
    Structure structure;
    std::vector<typename Structure::timer> timers(pending);
    fill(structure, timers);
    std::vector<std::size_t> order(pending);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), std::mt19937_64(3));
    const std::size_t batch = batch_of(pending);
    std::size_t first = 0;
    operation_timer timer;
    for (auto _ : state) {
        if (first + batch > pending) {
            first = 0;
        }
        timer.time(state, batch, [&] {
            for (std::size_t index = first; index < first + batch; ++index) {
                structure.cancel(timers[order[index]]);
            }
        });
        for (std::size_t index = first; index < first + batch; ++index) {
            structure.revive(timers[order[index]]);
        }
        first += batch;
    }
    timer.report(state);
}

template <class Structure>
void BM_insert_fire(benchmark::State& state) {
    const std::size_t count = pending_of(state);
    Structure structure;
    std::vector<typename Structure::timer> timers(count);
    const auto ahead = random_values(count, min_ahead, max_ahead, 4);
    const auto steps = random_values(4096, min_step, max_step, 5);
    std::size_t next_step = 0;
    operation_timer timer;
    for (auto _ : state) {
        std::size_t fired = 0;
        timer.time(state, count, [&] {
            const std::uint64_t now = structure.now();
            for (std::size_t index = 0; index < count; ++index) {
                structure.insert(timers[index], now + ahead[index]);
            }
            while (fired < count) {
                fired += structure.advance(structure.now() + steps[next_step++ % steps.size()]);
            }
        });
        if (fired != count) {
            state.SkipWithError("fired a different number of timers than inserted");
            break;
        }
    }
    timer.report(state);
}

void sizes(benchmark::internal::Benchmark* benchmark) {
    benchmark->Arg(1'000)->Arg(100'000)->Arg(1'000'000)->UseManualTime();
}

BENCHMARK_TEMPLATE(BM_insert, wheel)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_insert, heap)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_cancel, wheel)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_cancel, heap)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_insert_fire, wheel)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_insert_fire, heap)->Apply(sizes);

} // namespace
