// Helpers shared by the tests: an object that counts its live copies (to prove a frame was
// destroyed), the run options most tests use, a value after a delay, a task that ignores
// cancellation, a way to wait for a condition from a test body without timing asserts, and
// a coroutine type that is not weft's.
// A folder's test files compile together (tests/CMakeLists.txt), so a helper two of them
// need is defined here once.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <thread>
#include <utility>

#include <weft/weft.hpp>

namespace weft::testing {

// Counts destructions of the copies that own a slot; moved-from copies do not count.
class destruction_counter {
public:
    explicit destruction_counter(std::atomic<int>& destroyed) : destroyed_(&destroyed) {}
    destruction_counter(const destruction_counter& other) : destroyed_(other.destroyed_) {}
    destruction_counter(destruction_counter&& other) noexcept
        : destroyed_(std::exchange(other.destroyed_, nullptr)) {}
    destruction_counter& operator=(const destruction_counter&) = delete;
    ~destruction_counter() {
        if (destroyed_ != nullptr) {
            destroyed_->fetch_add(1);
        }
    }

private:
    std::atomic<int>* destroyed_;
};

// The runtimes most tests run in: virtual time makes a test's timing logic deterministic.
inline const weft::run_options one_virtual_worker{.workers = 1, .virtual_time = true};
inline const weft::run_options two_virtual_workers{.workers = 2, .virtual_time = true};
inline const weft::run_options two_workers{.workers = 2};

// User plus system CPU time this process has used, in seconds.
inline double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The calling thread's id, read so that no compiler can reuse a value computed before a
// co_await: clang treats pthread_self() as a constant function and may hoist or merge
// the call across a suspension point, after which the coroutine may run on another
// thread. The call through a volatile pointer is opaque to the optimiser.
inline std::thread::id current_thread_id_impl() {
    return std::this_thread::get_id();
}
inline std::thread::id (*volatile current_thread_id)() = &current_thread_id_impl;

// `value` after `delay`.
inline weft::coro<int> value_after(std::chrono::nanoseconds delay, int value) {
    co_await weft::sleep(delay);
    co_return value;
}

// A task body that ignores cancellation: it awaits `gate` again after every
// cancelled_error, so only runtime teardown ends it (if the gate never opens).
inline weft::coro<int> ignores_cancellation(weft::future<> gate, destruction_counter) {
    for (;;) {
        try {
            co_await gate;
            co_return 1;
        } catch (const weft::cancelled_error&) {
        }
    }
}

// Timers pending in all the current runtime's wheels.
inline std::uint64_t timers_pending() {
    std::uint64_t total = 0;
    for (const weft::worker_stats& each : weft::current_runtime_stats().workers) {
        total += each.timers_pending;
    }
    return total;
}

// Spins (yielding) until `done()` is true or a generous deadline passes; returns done().
template <class Predicate>
bool eventually(Predicate done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

// How many entries the directory `path` has (a /proc listing).
inline std::size_t entries_in(const char* path) {
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(path)) {
        ++entries;
    }
    return entries;
}

// How many threads this process has now. ThreadSanitizer starts a thread of its own when
// the process creates its first one, so a count taken as a baseline first creates and joins
// a thread (see baseline_thread_count).
inline std::size_t thread_count() {
    return entries_in("/proc/self/task");
}

// How many descriptors this process has open now (the one the listing itself opens counts
// every time, so two counts compare).
inline std::size_t open_descriptors() {
    return entries_in("/proc/self/fd");
}

// thread_count() once every thread a sanitizer runtime adds on the first thread creation
// exists, so that a later thread_count() differs only by the threads the test left behind.
inline std::size_t baseline_thread_count() {
    std::thread([] {}).join();
    return thread_count();
}

// Whether the calling thread is a worker of some runtime: only workers may read stats.
inline bool on_a_worker() {
    try {
        weft::current_runtime_stats();
        return true;
    } catch (const weft::runtime_error&) {
        return false;
    }
}

// A coroutine type that is not weft's: it runs at once when called, like a function, up
// to its first suspension, and keeps its frame until the object is destroyed.
class eager {
public:
    struct promise_type {
        eager get_return_object() noexcept {
            return eager(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    eager(eager&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    eager& operator=(eager&&) = delete;
    ~eager() {
        if (handle_) {
            handle_.destroy();
        }
    }

    bool done() const noexcept { return handle_.done(); }

private:
    explicit eager(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

    std::coroutine_handle<promise_type> handle_;
};

} // namespace weft::testing
