// The I/O reactor of one runtime: one edge-triggered epoll instance that every worker of
// the runtime shares, as Tokio's I/O driver is shared.
//
// Descriptors are attached once, for both directions, and stay registered until they are
// detached. Whoever holds the driver role (at most one thread at a time) polls: a worker
// with nothing to run that finds the role free parks in the poll, until its next timer or
// until unparked (the parker then writes the reactor's eventfd); busy workers poll without
// blocking every few dozen steps, so readiness is seen while every worker is busy. The driver then
// dispatches what the poll saw: each event raises the readiness counts of its source
// (io_source.hpp), whose waiters join the driver's own run queue.
//
// Invariant for memory safety: a detached source is freed only while no poll is under way
// (by the detaching thread if it can take the driver role, otherwise by the driver after
// it has dispatched its current poll), because an event for it may have been copied out of
// the kernel before it was removed from the epoll set, but none can be copied after.
//
// Sockets may outlive the runtime, and be closed on any thread. The reactor keeps a list
// of its attached sources; its destructor (after the workers are joined) orphans each one
// it reaches before that source's socket claims it for a detach, and waits, through the
// sources lock, for the detaches already claimed to end. From then on no source leads to
// the reactor: release() of an orphaned source only frees it (io_source.hpp).
#pragma once

#include <sys/epoll.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <weft/detail/spinlock.hpp>

#include "io/io_source.hpp"
#include "park/parker.hpp"

namespace weft::detail {

class reactor final : public interruptible_wait {
public:
    // Throws std::system_error if the kernel refuses an epoll instance or an eventfd.
    reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;
    ~reactor();

    // Registers `fd` (non-blocking) for both directions; throws std::system_error naming
    // `what` if epoll refuses it. With a `handler`, the source's events go to it instead of
    // its readiness waiters.
    io_source* attach(int fd, const char* what, io_event_handler handler = {});
    // Any thread, also after the source's reactor was destroyed: unregisters the source
    // and frees it once no poll can still hold an event for it, or, if it is orphaned, just
    // frees it. The caller closes the descriptor afterwards, and no task may be waiting on
    // it.
    static void release(io_source* source) noexcept;

    // Whether any descriptor is attached: workers poll only then.
    bool in_use() const noexcept {
        // relaxed: a hint; a worker that misses a fresh attach polls on its next round, and
        // the task that attached polls through its own worker's parking.
        return attached_.load(std::memory_order_relaxed) != 0;
    }

    // The driver role, held by one thread at a time. try_drive() takes it for a moment (a
    // poll that does not block, or freeing a source); try_drive_to_park() takes it to sleep
    // in the poll, waiting out a momentary holder rather than failing, since a worker that
    // settles for its futex because of a holder about to let go would leave nobody asleep
    // in the poll. The holder polls with wait_until (directly, or through parker::park_in),
    // hands out what it saw with dispatch(), then calls stop_driving().
    bool try_drive() noexcept {
        std::uint8_t expected = role_free;
        // acquire: the previous driver's frees and event handling happen before ours.
        return driving_.compare_exchange_strong(
            expected, role_held_briefly, std::memory_order_acquire, std::memory_order_relaxed);
    }
    // False if a worker already sleeps in the poll (or a momentary holder kept the role
    // past a few microseconds).
    bool try_drive_to_park() noexcept;
    void stop_driving() noexcept {
        // release: pairs with the acquire that takes the role.
        driving_.store(role_free, std::memory_order_release);
    }

    // The driver: polls once, blocking until `deadline_ns` at most (0: not at all), and
    // keeps the events for dispatch().
    void wait_until(std::uint64_t deadline_ns) noexcept override;
    // Any thread: makes the driver's poll return.
    void interrupt() noexcept override;
    // The driver, on its worker, after wait_until: wakes the waiters of every source the
    // poll saw ready through `driver`, the worker's waker, which wakes no other worker (the
    // caller decides that once for the batch), then frees the sources detached meanwhile.
    // Returns the tasks it woke.
    std::size_t dispatch(waker& driver) noexcept;
    // A worker with work of its own: polls without blocking and dispatches, if nobody
    // drives. Returns the tasks it woke.
    std::size_t poll_if_free(waker& driver) noexcept;

private:
    // release(), for a source it claimed while attached: this reactor stays alive until
    // the source leaves the attached list, the last thing done here.
    void detach(io_source* source) noexcept;
    // The destructor: orphans every source still attached, waiting for claimed detaches.
    void orphan_attached() noexcept;
    // The driver, after dispatching: frees the sources detached meanwhile.
    void free_released() noexcept;

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    // The driver's: the last poll's events, until dispatched.
    std::array<epoll_event, 256> events_;
    std::size_t polled_ = 0;
    static constexpr std::uint8_t role_free = 0;
    static constexpr std::uint8_t role_held_briefly = 1;
    static constexpr std::uint8_t role_held_to_park = 2;
    std::atomic<std::uint8_t> driving_{role_free};
    std::atomic<std::size_t> attached_{0};
    // Detached sources waiting for the end of a poll: a stack that detaching threads push
    // onto and the driver takes whole, so taking it is one exchange when it is empty.
    std::atomic<io_source*> released_{nullptr};
    // Every attached source not yet detached or orphaned, linked through the sources.
    spinlock sources_lock_;
    io_source* attached_sources_ = nullptr;
};

// The reactor of the runtime whose worker runs on this thread; throws weft::runtime_error
// naming `what` on any other thread. Defined by the scheduler, which owns the reactor
// (scheduler/layer_hooks.cpp).
[[gnu::noinline]] reactor& require_running_reactor(const char* what);

} // namespace weft::detail
