// What it costs tasks to wait for one another through weft's lock and queue, next to plain
// threads doing the same with the standard library and oneTBB in the same binary:
//   BM_lock_uncontended_*  co_await l.acquire(); l.unlock() in one task that nobody else
//                          competes with, against std::mutex lock+unlock on one thread; the
//                          benchmark's time is per lock+unlock
//   BM_lock_handoff_*      two tasks taking a weft::lock in turn, every acquire waiting for
//                          the other's unlock (FIFO handoff), against two threads passing a
//                          turn through a mutex and condition variable, or through a pair of
//                          binary semaphores: ns_per_handoff
//   BM_queue_ping_pong_*   one value sent back and forth between two tasks through two
//                          weft::queue<int>, one each way, against two threads doing it
//                          through two tbb::concurrent_bounded_queue<int> with blocking
//                          push and pop: ns_per_round_trip
//   BM_queue_throughput_*  4 producer tasks putting 1,000,000 ints in all into one
//                          weft::queue<int> bounded at 1,024, drained by 4 consumer tasks,
//                          against 4 + 4 threads on a tbb::concurrent_bounded_queue<int> of
//                          capacity 1,024: ns_per_item and items_per_second; also 1 + 1
// One runtime per benchmark, made before the timed loop, at 1 and 2 workers; real or manual
// (wall) time. The weft benchmarks with two tasks or more also count the scheduler's steals
// and parks per unit. Every benchmark checks what it did and fails with SkipWithError
// otherwise.
#include <weft/detail/cpu_relax.hpp>
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>
#include <tbb/concurrent_queue.h>

#include "checked_measure.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using weft_bench::check;

weft::run_options options_for(const benchmark::State& state) {
    return weft::run_options{.workers = static_cast<std::size_t>(state.range(0))};
}

double nanoseconds_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration<double, std::nano>(to - from).count();
}

// Ends the iteration's manual time and adds it to `total_ns`.
void end_iteration(benchmark::State& state, steady::time_point start, double& total_ns) {
    const steady::time_point end = steady::now();
    total_ns += nanoseconds_between(start, end);
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
}

// How much the scheduler moved tasks between workers (steals) and put workers to sleep
// (parks: waking one again costs a futex call) during a timed loop: what explains a
// two-worker number. Read inside the runtime, before and after the loop.
struct scheduler_activity {
    std::uint64_t steals = 0;
    std::uint64_t parks = 0;

    static scheduler_activity now() {
        scheduler_activity total;
        for (const weft::worker_stats& each : weft::current_runtime_stats().workers) {
            total.steals += each.tasks_stolen;
            total.parks += each.parks;
        }
        return total;
    }
    scheduler_activity since(const scheduler_activity& before) const {
        return {steals - before.steals, parks - before.parks};
    }
};

// Sets counters steals_per_<unit> and parks_per_<unit>.
void report_activity(benchmark::State& state, const scheduler_activity& activity, long units,
                     const char* unit) {
    if (units > 0) {
        state.counters[std::string("steals_per_") + unit] =
            static_cast<double>(activity.steals) / static_cast<double>(units);
        state.counters[std::string("parks_per_") + unit] =
            static_cast<double>(activity.parks) / static_cast<double>(units);
    }
}

// 1. Lock, uncontended.

weft::coro<> lock_unlock_loop(benchmark::State& state, long& held) {
    weft::lock guard;
    for (auto _ : state) {
        co_await guard.acquire();
        ++held;
        guard.unlock();
    }
}

void BM_lock_uncontended_weft(benchmark::State& state) {
    long held = 0;
    weft::run(lock_unlock_loop(state, held), options_for(state));
    check(state, "weft::lock", held, static_cast<long>(state.iterations()));
}
BENCHMARK(BM_lock_uncontended_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

void BM_lock_uncontended_std_mutex(benchmark::State& state) {
    std::mutex guard;
    long held = 0;
    for (auto _ : state) {
        guard.lock();
        ++held;
        guard.unlock();
    }
    check(state, "std::mutex", held, static_cast<long>(state.iterations()));
}
BENCHMARK(BM_lock_uncontended_std_mutex)->UseRealTime();

// 2. Lock handoff between two tasks.
//
// Tasks 0 (the benchmark's loop) and 1 (its partner) take the lock in turn. A task holding
// the lock first waits until the other is in the lock's wait list, so its unlock is a FIFO
// handoff and the other's acquire really waited; it then re-acquires and waits in turn.
// With two workers the unlocking task spins until the other has resumed instead of
// suspending at once: the woken task is queued on the unlocking task's worker, which is
// busy, so only the other worker can take it (by stealing it). weft cannot pin a task to a
// worker; this makes every handoff cross threads, and each resumption checks that it did
// (the unlocker's thread id against its own). With one worker both tasks share the thread
// and the handoff is a switch between them on it.

constexpr int handoff_rounds = 1'000; // per iteration; two handoffs each

struct handoff_table {
    explicit handoff_table(bool cross) : cross_workers(cross) {}

    weft::lock lock;
    const bool cross_workers;
    std::atomic<bool> queued[2] = {false, false}; // task i waits in the lock's list
    std::atomic<long> taken{0};                   // handoffs so far; moves when one resumes
    // Read and written only by the task holding the lock.
    std::thread::id last_unlocker;
    bool stop = false;
    long handoffs = 0;
    long waited = 0;
    long crossed = 0;
};

// co_await l.acquire() that, when it has to wait, sets `queued` once the task is in the
// lock's wait list. Returns whether it waited.
class announced_acquire {
public:
    announced_acquire(weft::lock& target, std::atomic<bool>& queued) noexcept
        : acquiring_(target.acquire()), queued_(queued) {}

    bool await_ready() noexcept { return acquiring_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        // Once queued, the task may resume on another thread and this awaiter end with it:
        // everything used afterwards is copied to the stack first.
        std::atomic<bool>& queued = queued_;
        waited_ = true;
        if (!acquiring_.await_suspend(awaiting)) {
            waited_ = false;
            return false;
        }
        // release: the holder that sees it then unlocks; nothing else to publish.
        queued.store(true, std::memory_order_release);
        return true;
    }
    bool await_resume() {
        acquiring_.await_resume();
        return waited_;
    }

private:
    weft::semaphore::acquirer acquiring_;
    std::atomic<bool>& queued_;
    bool waited_ = false;
};

// Holding the lock: hands it to the other task once it waits for it.
void hand_over(handoff_table& table, int self) {
    const int other = 1 - self;
    // acquire: pairs with announced_acquire's store; the other is in the list now.
    while (!table.queued[other].load(std::memory_order_acquire)) {
        weft::detail::cpu_relax();
    }
    // relaxed: the other sets it again only after resuming, which our unlock orders after.
    table.queued[other].store(false, std::memory_order_relaxed);
    table.last_unlocker = std::this_thread::get_id();
    // relaxed: only lock holders change it, and we hold the lock.
    const long before = table.taken.load(std::memory_order_relaxed);
    table.lock.unlock();
    if (table.cross_workers) {
        // relaxed: it only says when to go on; the lock orders what the holders share.
        while (table.taken.load(std::memory_order_relaxed) == before) {
            weft::detail::cpu_relax();
        }
    }
}

// Just resumed holding the lock after `waited`.
void took_over(handoff_table& table, bool waited) {
    ++table.handoffs;
    table.waited += waited ? 1 : 0;
    table.crossed += table.last_unlocker != std::this_thread::get_id() ? 1 : 0;
    // relaxed: releases the unlocker spinning in hand_over, which shares nothing else
    // through it.
    table.taken.fetch_add(1, std::memory_order_relaxed);
}

weft::coro<> handoff_partner(handoff_table& table) {
    for (;;) {
        const bool waited = co_await announced_acquire(table.lock, table.queued[1]);
        took_over(table, waited);
        if (table.stop) {
            table.lock.unlock();
            co_return;
        }
        hand_over(table, 1);
    }
}

weft::coro<> handoff_driver(benchmark::State& state, handoff_table& table, double& total_ns,
                            scheduler_activity& activity) {
    co_await table.lock.acquire();
    weft::task<> partner = weft::create_task(handoff_partner(table));
    // Yields rather than spins: with one worker the partner needs this thread to queue.
    while (!table.queued[1].load(std::memory_order_acquire)) {
        co_await weft::sleep(0s);
    }
    const scheduler_activity before = scheduler_activity::now();
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        for (int round = 0; round < handoff_rounds; ++round) {
            hand_over(table, 0);
            const bool waited = co_await announced_acquire(table.lock, table.queued[0]);
            took_over(table, waited);
        }
        end_iteration(state, start, total_ns);
    }
    activity = scheduler_activity::now().since(before);
    table.stop = true;
    hand_over(table, 0);
    co_await partner;
}

void BM_lock_handoff_weft(benchmark::State& state) {
    const bool cross_workers = state.range(0) > 1;
    handoff_table table(cross_workers);
    double total_ns = 0;
    scheduler_activity activity;
    weft::run(handoff_driver(state, table, total_ns, activity), options_for(state));
    const long timed = 2 * handoff_rounds * static_cast<long>(state.iterations());
    const long handoffs = timed + 1; // the partner's last wait, for the stop, is one too
    if (check(state, "handoffs", table.handoffs, handoffs) &&
        check(state, "acquires that waited", table.waited, handoffs) &&
        check(state, "handoffs across threads", table.crossed, cross_workers ? handoffs : 0)) {
        state.counters["ns_per_handoff"] = total_ns / static_cast<double>(timed);
        report_activity(state, activity, timed, "handoff");
    }
}
BENCHMARK(BM_lock_handoff_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseManualTime();

// Two threads passing a turn back and forth: the benchmark's thread gives it and waits for
// it back, a partner thread waits for it and gives it back. Each pass is one handoff.
void BM_lock_handoff_condvar(benchmark::State& state) {
    std::mutex guard;
    std::condition_variable turn_changed;
    int turn = 0; // whose turn: 0 the benchmark's thread, 1 the partner
    bool stop = false;
    long passes = 0;
    std::thread partner([&] {
        std::unique_lock held(guard);
        for (;;) {
            turn_changed.wait(held, [&] { return turn == 1 || stop; });
            if (stop) {
                return;
            }
            ++passes;
            turn = 0;
            turn_changed.notify_one();
        }
    });
    double total_ns = 0;
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        std::unique_lock held(guard);
        for (int round = 0; round < handoff_rounds; ++round) {
            ++passes;
            turn = 1;
            turn_changed.notify_one();
            turn_changed.wait(held, [&] { return turn == 0; });
        }
        held.unlock();
        end_iteration(state, start, total_ns);
    }
    {
        const std::lock_guard held(guard);
        stop = true;
    }
    turn_changed.notify_one();
    partner.join();
    const long handoffs = 2 * handoff_rounds * static_cast<long>(state.iterations());
    if (check(state, "condvar passes", passes, handoffs)) {
        state.counters["ns_per_handoff"] = total_ns / static_cast<double>(handoffs);
    }
}
BENCHMARK(BM_lock_handoff_condvar)->UseManualTime();

void BM_lock_handoff_semaphore(benchmark::State& state) {
    std::binary_semaphore to_partner(0);
    std::binary_semaphore to_driver(0);
    bool stop = false; // ordered by the semaphores, as are the counts
    long partner_passes = 0;
    std::thread partner([&] {
        for (;;) {
            to_partner.acquire();
            if (stop) {
                return;
            }
            ++partner_passes;
            to_driver.release();
        }
    });
    double total_ns = 0;
    long driver_passes = 0;
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        for (int round = 0; round < handoff_rounds; ++round) {
            ++driver_passes;
            to_partner.release();
            to_driver.acquire();
        }
        end_iteration(state, start, total_ns);
    }
    stop = true;
    to_partner.release();
    partner.join();
    const long handoffs = 2 * handoff_rounds * static_cast<long>(state.iterations());
    if (check(state, "semaphore passes", driver_passes + partner_passes, handoffs)) {
        state.counters["ns_per_handoff"] = total_ns / static_cast<double>(handoffs);
    }
}
BENCHMARK(BM_lock_handoff_semaphore)->UseManualTime();

// 3. Queue ping-pong: the driver sends `round`, the partner answers `round + 1`. The value -1
// tells the partner to stop.

constexpr int ping_pong_rounds = 1'000; // per iteration

struct ping_pong_table {
    weft::queue<int> to_partner;
    weft::queue<int> to_driver;
    // Written by the partner before it answers; the driver reads it after getting the answer.
    std::thread::id partner_thread;
    long answers = 0;
    long wrong_answers = 0;
    long crossed = 0; // answers that came from another thread than the driver's
};

weft::coro<> ping_pong_partner(ping_pong_table& table) {
    for (;;) {
        const int value = co_await table.to_partner.get();
        if (value < 0) {
            co_return;
        }
        table.partner_thread = std::this_thread::get_id();
        co_await table.to_driver.put(value + 1);
    }
}

weft::coro<> ping_pong_driver(benchmark::State& state, ping_pong_table& table, double& total_ns,
                              scheduler_activity& activity) {
    weft::task<> partner = weft::create_task(ping_pong_partner(table));
    const scheduler_activity before = scheduler_activity::now();
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        for (int round = 0; round < ping_pong_rounds; ++round) {
            co_await table.to_partner.put(round);
            const int answer = co_await table.to_driver.get();
            ++table.answers;
            table.wrong_answers += answer != round + 1 ? 1 : 0;
            table.crossed += table.partner_thread != std::this_thread::get_id() ? 1 : 0;
        }
        end_iteration(state, start, total_ns);
    }
    activity = scheduler_activity::now().since(before);
    co_await table.to_partner.put(-1);
    co_await partner;
}

void report_round_trips(benchmark::State& state, long answers, long wrong_answers,
                        double total_ns) {
    const long round_trips = ping_pong_rounds * static_cast<long>(state.iterations());
    if (check(state, "answers", answers, round_trips) &&
        check(state, "wrong answers", wrong_answers, 0)) {
        state.counters["ns_per_round_trip"] = total_ns / static_cast<double>(round_trips);
    }
}

void BM_queue_ping_pong_weft(benchmark::State& state) {
    ping_pong_table table;
    double total_ns = 0;
    scheduler_activity activity;
    weft::run(ping_pong_driver(state, table, total_ns, activity), options_for(state));
    report_round_trips(state, table.answers, table.wrong_answers, total_ns);
    report_activity(state, activity, table.answers, "round_trip");
    // Where the two tasks ran: weft does not pin them, so with two workers this says how
    // many round trips crossed threads (the answer from the other worker).
    if (table.answers > 0) {
        state.counters["cross_thread_share"] =
            static_cast<double>(table.crossed) / static_cast<double>(table.answers);
    }
}
BENCHMARK(BM_queue_ping_pong_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseManualTime();

void BM_queue_ping_pong_tbb(benchmark::State& state) {
    tbb::concurrent_bounded_queue<int> to_partner;
    tbb::concurrent_bounded_queue<int> to_driver;
    std::thread partner([&] {
        for (;;) {
            int value = 0;
            to_partner.pop(value);
            if (value < 0) {
                return;
            }
            to_driver.push(value + 1);
        }
    });
    double total_ns = 0;
    long answers = 0;
    long wrong_answers = 0;
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        for (int round = 0; round < ping_pong_rounds; ++round) {
            to_partner.push(round);
            int answer = 0;
            to_driver.pop(answer);
            ++answers;
            wrong_answers += answer != round + 1 ? 1 : 0;
        }
        end_iteration(state, start, total_ns);
    }
    to_partner.push(-1);
    partner.join();
    report_round_trips(state, answers, wrong_answers, total_ns);
}
BENCHMARK(BM_queue_ping_pong_tbb)->UseManualTime();

// 4. Queue throughput: `side` producers and `side` consumers (4 and 4 is the benchmark; 1
// and 1 shows each queue without more threads than cores). Producer p puts the ints
// [p * share, (p + 1) * share); once every producer is done, one -1 per consumer tells the
// consumers to stop. Each consumer counts and sums what it got; the totals must be every
// int once.

constexpr int items_per_iteration = 1'000'000;
constexpr long items_sum = 499'999'500'000L; // 0 + 1 + ... + 999,999
constexpr std::size_t queue_capacity = 1'024;

struct tally {
    long count = 0;
    long sum = 0;
};

weft::coro<> produce(weft::queue<int>& items, int first, int share) {
    for (int value = first; value < first + share; ++value) {
        co_await items.put(value);
    }
}

weft::coro<tally> consume(weft::queue<int>& items) {
    tally got;
    for (;;) {
        const int value = co_await items.get();
        if (value < 0) {
            co_return got;
        }
        ++got.count;
        got.sum += value;
    }
}

weft::coro<tally> pass_items(int side) {
    weft::queue<int> items(queue_capacity);
    const int share = items_per_iteration / side;
    std::vector<weft::task<tally>> consuming;
    for (int i = 0; i < side; ++i) {
        consuming.push_back(weft::create_task(consume(items)));
    }
    std::vector<weft::task<>> producing;
    for (int p = 0; p < side; ++p) {
        producing.push_back(weft::create_task(produce(items, p * share, share)));
    }
    for (weft::task<>& each : producing) {
        co_await each;
    }
    for (int i = 0; i < side; ++i) {
        co_await items.put(-1);
    }
    tally total;
    for (weft::task<tally>& each : consuming) {
        const tally got = co_await each;
        total.count += got.count;
        total.sum += got.sum;
    }
    co_return total;
}

void report_items(benchmark::State& state, const tally& total, double total_ns) {
    const long items = items_per_iteration * static_cast<long>(state.iterations());
    if (check(state, "items received", total.count, items) &&
        check(state, "sum of the items received", total.sum,
              items_sum * static_cast<long>(state.iterations()))) {
        state.SetItemsProcessed(items);
        state.counters["ns_per_item"] = total_ns / static_cast<double>(items);
    }
}

weft::coro<> throughput_driver(benchmark::State& state, int side, tally& total, double& total_ns,
                               scheduler_activity& activity) {
    const scheduler_activity before = scheduler_activity::now();
    for (auto _ : state) {
        const steady::time_point start = steady::now();
        const tally got = co_await pass_items(side);
        end_iteration(state, start, total_ns);
        total.count += got.count;
        total.sum += got.sum;
    }
    activity = scheduler_activity::now().since(before);
}

void BM_queue_throughput_weft(benchmark::State& state) {
    tally total;
    double total_ns = 0;
    scheduler_activity activity;
    weft::run(throughput_driver(state, static_cast<int>(state.range(1)), total, total_ns, activity),
              options_for(state));
    report_items(state, total, total_ns);
    report_activity(state, activity, total.count, "item");
}
BENCHMARK(BM_queue_throughput_weft)
    ->ArgNames({"workers", "side"})
    ->ArgsProduct({{1, 2}, {4, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The threads are started before the clock and wait on a latch, so the time covers
// passing the items and joining the threads, not starting them.
void BM_queue_throughput_tbb(benchmark::State& state) {
    const int side = static_cast<int>(state.range(0));
    const int share = items_per_iteration / side;
    tally total;
    double total_ns = 0;
    for (auto _ : state) {
        tbb::concurrent_bounded_queue<int> items;
        items.set_capacity(static_cast<std::ptrdiff_t>(queue_capacity));
        std::latch go(1);
        std::vector<std::thread> producing;
        for (int p = 0; p < side; ++p) {
            producing.emplace_back([&items, &go, first = p * share, share] {
                go.wait();
                for (int value = first; value < first + share; ++value) {
                    items.push(value);
                }
            });
        }
        std::vector<tally> got(static_cast<std::size_t>(side));
        std::vector<std::thread> consuming;
        for (tally& mine : got) {
            consuming.emplace_back([&items, &go, &mine] {
                go.wait();
                tally counted; // local: the consumers' tallies share a cache line
                for (;;) {
                    int value = 0;
                    items.pop(value);
                    if (value < 0) {
                        mine = counted;
                        return;
                    }
                    ++counted.count;
                    counted.sum += value;
                }
            });
        }
        const steady::time_point start = steady::now();
        go.count_down();
        for (std::thread& each : producing) {
            each.join();
        }
        for (int i = 0; i < side; ++i) {
            items.push(-1);
        }
        for (std::thread& each : consuming) {
            each.join();
        }
        end_iteration(state, start, total_ns);
        for (const tally& mine : got) {
            total.count += mine.count;
            total.sum += mine.sum;
        }
    }
    report_items(state, total, total_ns);
}
BENCHMARK(BM_queue_throughput_tbb)
    ->ArgName("side")
    ->Arg(4)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

} // namespace
