// The spawn workloads, each written for weft and for oneTBB's task_group, shared by
// spawn_bench.cpp (wall time) and instructions_driver.cpp (instruction counts):
//   spawn_join  one task spawns `count` trivial tasks, then joins them all
//   batched     the same spawns as rounds, so only one round's tasks are pending at once
//   skynet      a 10-ary spawn-and-join tree (weft: also skynet_vector, children in a vector)
//   fib         fib(n) forking one branch and running the other
// Each returns a result the caller checks against the constants below.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include <tbb/task_group.h>
#include <weft/weft.hpp>

namespace weft_bench {

constexpr int spawn_join_tasks = 1'000'000;
constexpr long spawn_join_sum = 499'999'500'000L;

constexpr int batched_rounds = 100;
constexpr int batched_round_tasks = spawn_join_tasks / batched_rounds;

constexpr long skynet_leaves = 1'000'000;
constexpr long skynet_tasks = 1'111'111;
constexpr long skynet_sum = 499'999'500'000L;

constexpr int fib_n = 30;
constexpr long fib_result = 832'040;
constexpr long fib_calls = 2'692'537;

// Called at both ends of spawn_join's spawn phase, while every spawned task may still be
// pending; the memory benchmark reads the resident set size there.
struct unobserved_spawn_phase {
    void begin() {}
    void end() {}
};

// weft workloads.

inline weft::coro<int> trivial(int index) {
    co_return index;
}

template <class SpawnPhase = unobserved_spawn_phase>
weft::coro<long> spawn_and_join(int count, SpawnPhase phase = {}) {
    std::vector<weft::task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    phase.begin();
    for (int index = 0; index < count; ++index) {
        tasks.push_back(weft::create_task(trivial(index)));
    }
    phase.end();
    long sum = 0;
    for (auto& task : tasks) {
        sum += co_await task;
    }
    co_return sum;
}

inline weft::coro<long> spawn_and_join_batched(int rounds, int round_tasks) {
    std::vector<weft::task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(round_tasks));
    long sum = 0;
    for (int round = 0; round < rounds; ++round) {
        const int first = round * round_tasks;
        for (int index = first; index < first + round_tasks; ++index) {
            tasks.push_back(weft::create_task(trivial(index)));
        }
        for (auto& task : tasks) {
            sum += co_await task;
        }
        tasks.clear();
    }
    co_return sum;
}

// The ten children in a std::array, which gather joins with no allocation beyond frames.
inline weft::coro<long> skynet(long num, long size) {
    if (size == 1) {
        co_return num;
    }
    const long child_size = size / 10;
    std::array<weft::coro<long>, 10> children;
    for (long index = 0; index < 10; ++index) {
        children[static_cast<std::size_t>(index)] = skynet(num + index * child_size, child_size);
    }
    const std::array<long, 10> results = co_await weft::gather(std::move(children));
    long sum = 0;
    for (long result : results) {
        sum += result;
    }
    co_return sum;
}

// The same tree with the children in a std::vector, as a variable fan-out is written.
inline weft::coro<long> skynet_vector(long num, long size) {
    if (size == 1) {
        co_return num;
    }
    const long child_size = size / 10;
    std::vector<weft::coro<long>> children;
    children.reserve(10);
    for (long index = 0; index < 10; ++index) {
        children.push_back(skynet_vector(num + index * child_size, child_size));
    }
    std::vector<long> results = co_await weft::gather(std::move(children));
    long sum = 0;
    for (long result : results) {
        sum += result;
    }
    co_return sum;
}

inline weft::coro<long> fib(int n) {
    if (n < 2) {
        co_return n;
    }
    auto [a, b] = co_await weft::gather(fib(n - 1), fib(n - 2));
    co_return a + b;
}

inline weft::coro<long> nothing() {
    co_return 0;
}

// oneTBB workloads.

template <class SpawnPhase = unobserved_spawn_phase>
long spawn_and_join_tbb(int count, SpawnPhase phase = {}) {
    std::vector<int> results(static_cast<std::size_t>(count));
    tbb::task_group group;
    phase.begin();
    for (int index = 0; index < count; ++index) {
        group.run([&results, index] { results[static_cast<std::size_t>(index)] = index; });
    }
    phase.end();
    group.wait();
    long sum = 0;
    for (int result : results) {
        sum += result;
    }
    return sum;
}

inline long spawn_and_join_batched_tbb(int rounds, int round_tasks) {
    std::vector<int> results(static_cast<std::size_t>(round_tasks));
    long sum = 0;
    for (int round = 0; round < rounds; ++round) {
        const int first = round * round_tasks;
        tbb::task_group group;
        for (int index = 0; index < round_tasks; ++index) {
            group.run([&results, index, first] {
                results[static_cast<std::size_t>(index)] = first + index;
            });
        }
        group.wait();
        for (int result : results) {
            sum += result;
        }
    }
    return sum;
}

inline long skynet_tbb(long num, long size) {
    if (size == 1) {
        return num;
    }
    const long child_size = size / 10;
    long results[10];
    tbb::task_group group;
    for (long index = 0; index < 10; ++index) {
        group.run([&results, num, index, child_size] {
            results[index] = skynet_tbb(num + index * child_size, child_size);
        });
    }
    group.wait();
    long sum = 0;
    for (long result : results) {
        sum += result;
    }
    return sum;
}

inline long fib_tbb(int n) {
    if (n < 2) {
        return n;
    }
    long a = 0;
    tbb::task_group group;
    group.run([&a, n] { a = fib_tbb(n - 1); });
    const long b = fib_tbb(n - 2);
    group.wait();
    return a + b;
}

} // namespace weft_bench
