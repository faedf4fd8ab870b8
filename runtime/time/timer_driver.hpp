// A worker's timers: the wheel (time/timer_wheel.hpp), the lock that lets any thread cancel
// from it, the values mirrored for readers that take no lock, and firing.
//
// The owning worker inserts and fires; a cancellation comes from any thread (a cancelled
// sleep, the runtime's drain), so every use of the wheel is under the driver's spin lock.
// Two values mirror the wheel for lock-free readers: the pending count, which the owner
// looks at before it takes the lock to fire (a stale count costs one needless lock), and,
// in virtual time only, the earliest deadline, which the worker that moves the virtual
// clock reads in the parking protocol (scheduler/runtime.hpp, advance_virtual_time).
//
// fire_due() runs each due entry's `fire` under the lock, on the owner's thread; a fire
// function makes its task ready through owner(), the worker's waker (task/waker.hpp), which
// queues without waking another worker: the worker decides that once for the batch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/spinlock.hpp>
#include <weft/detail/timer_entry.hpp>

#include "task/waker.hpp"
#include "time/timer_wheel.hpp"

namespace weft::detail {

class timer_driver {
public:
    // published_next_deadline() while nothing is pending (or in real time).
    static constexpr std::uint64_t no_timer = ~std::uint64_t{0};

    // `publish_deadline`: keep published_next_deadline() current (virtual time only; in
    // real time each worker reads its own deadline under the lock).
    timer_driver(waker& owner, bool publish_deadline) noexcept
        : owner_(owner), publish_deadline_(publish_deadline) {}
    timer_driver(const timer_driver&) = delete;
    timer_driver& operator=(const timer_driver&) = delete;

    // The owning worker, through which a fired timer makes its task ready.
    waker& owner() const noexcept { return owner_; }

    // Owner thread only. Inserts `entry` unless `strand` (if any) has a cancellation
    // pending; publishes `target` as the strand's suspension inside the lock, so a
    // canceller's cancel() finds the entry either pending or fired. False if the
    // cancellation was pending and nothing was inserted.
    bool add(timer_entry& entry, strand_word* strand = nullptr, cancel_target* target = nullptr);
    // Any thread. Takes `entry` out of the wheel if it is still pending; true if it was.
    bool cancel(timer_entry& entry) noexcept;

    // Owner thread only. Fires every entry whose deadline is not later than `now`; returns
    // how many fired.
    std::size_t fire_due(std::uint64_t now) noexcept;

    // Owner thread only: the earliest pending deadline, or nullopt.
    std::optional<std::uint64_t> next_deadline() noexcept;

    // How many entries are pending; a hint, exact only on the owner thread between its own
    // calls (a cancellation may have taken one out since).
    std::size_t pending() const noexcept {
        // relaxed: a hint; the wheel itself is read under the lock.
        return count_.load(std::memory_order_relaxed);
    }

    // The earliest pending deadline, or no_timer; kept in virtual time only, where the
    // worker that advances the clock reads it.
    std::uint64_t published_next_deadline() const noexcept {
        // seq_cst: read after the reader's enter_sleep RMW, in the single order with the
        // owner's store before its own enter_sleep.
        return next_deadline_.load(std::memory_order_seq_cst);
    }

private:
    // Under lock_: refreshes the mirrored count and, in virtual time, the deadline.
    void publish() noexcept;

    waker& owner_;
    const bool publish_deadline_;
    spinlock lock_;
    timer_wheel wheel_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> next_deadline_{no_timer};
};

// The timer driver of the worker running on this thread, or nullptr. Defined by the
// scheduler, which owns the workers (scheduler/layer_hooks.cpp).
[[gnu::noinline]] timer_driver* running_timer_driver() noexcept;

} // namespace weft::detail
