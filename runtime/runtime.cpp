// The runtime object: start, stop and teardown; see runtime.hpp.
#include "runtime.hpp"

#include <time.h>

#include <optional>

#include <weft/detail/waiter_list.hpp>

namespace weft::detail {

std::uint64_t monotonic_ns() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(now.tv_nsec);
}

scheduler::scheduler(std::size_t workers, bool virtual_time)
    : idle_(workers), registry_(workers), virtual_time_(virtual_time) {
    workers_.reserve(workers);
    for (std::size_t id = 0; id < workers; ++id) {
        workers_.push_back(std::make_unique<worker>(*this, id));
    }
}

scheduler::~scheduler() {
    if (!threads_.empty()) {
        stop();
        for (std::thread& thread : threads_) {
            thread.join();
        }
    }
}

namespace {

// Wakes no coroutine: the main task's end stops the runtime.
struct stop_when_done : waiter_node {
    explicit stop_when_done(scheduler& runtime) : runtime(runtime) { wake = &on_done; }
    static void on_done(waiter_node& node) noexcept {
        static_cast<stop_when_done&>(node).runtime.stop();
    }
    scheduler& runtime;
};

} // namespace

void scheduler::run_main(frame_header* main, std::coroutine_handle<> handle) {
    stop_when_done stopper(*this);
    main->waiters.enqueue(stopper);
    // relaxed: no other thread exists yet; thread creation publishes it.
    main->refs.store(2, std::memory_order_relaxed);
    registry_.add(main, 0);
    workers_[0]->ready.push(handle, injector_);
    try {
        for (std::size_t id = 1; id < workers_.size(); ++id) {
            threads_.emplace_back([this, id] { workers_[id]->run(); });
        }
    } catch (...) {
        stop();
        for (std::thread& thread : threads_) {
            thread.join();
        }
        threads_.clear();
        main->waiters.remove(stopper);
        teardown();
        throw;
    }
    workers_[0]->run();
    for (std::thread& thread : threads_) {
        thread.join();
    }
    threads_.clear();
    teardown();
}

void scheduler::stop() noexcept {
    // seq_cst: see stopping().
    stopping_.store(true, std::memory_order_seq_cst);
    for (auto& each : workers_) {
        each->sleeper.unpark();
    }
}

void scheduler::inject(std::coroutine_handle<> handle) {
    injector_.push(handle);
    notify_work();
}

void scheduler::notify_work() {
    if (const std::optional<std::size_t> id = idle_.claim_sleeper()) {
        workers_[*id]->sleeper.unpark();
    }
}

std::optional<std::size_t> scheduler::advance_virtual_time() noexcept {
    std::optional<std::size_t> owner;
    std::uint64_t earliest = worker::no_timer;
    for (const auto& each : workers_) {
        const std::uint64_t deadline = each->published_next_timer();
        if (deadline < earliest) {
            earliest = deadline;
            owner = each->id();
        }
    }
    if (owner) {
        // relaxed read, release store: only the last idle worker moves the clock; the
        // release lets a worker that reads the new time see the decision that led to it.
        if (earliest > virtual_now_.load(std::memory_order_relaxed)) {
            virtual_now_.store(earliest, std::memory_order_release);
        }
    }
    return owner;
}

void scheduler::wake_worker(std::size_t id) {
    if (idle_.claim(id)) {
        workers_[id]->sleeper.unpark();
    }
}

bool scheduler::has_visible_work() const noexcept {
    if (!injector_.empty()) {
        return true;
    }
    for (const auto& each : workers_) {
        if (!each->ready.empty() || !each->forks.empty()) {
            return true;
        }
    }
    return false;
}

void scheduler::teardown() {
    injector_.close();
    for (auto& each : workers_) {
        each->ready.clear();
        each->forks.clear();
    }
    registry_.drain([](frame_header* header) {
        std::coroutine_handle<>::from_address(header->frame()).destroy();
    });
}

} // namespace weft::detail
