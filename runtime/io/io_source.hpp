// One descriptor attached to the reactor, and the wait for its readiness.
//
// Each direction (readable, writable) counts the readiness edges the reactor has seen and
// keeps the tasks waiting for the next one. An operation reads the count before its system
// call and, after EAGAIN, waits only if the count has not moved since: the count is raised
// and the waiters are taken inside the wait queue's lock, where a waiter also re-reads it
// before linking itself, so an edge that lands between the system call and the wait is
// never missed. Every edge wakes every waiter of its direction, which retry; a waiter
// cancelled meanwhile leaves the list (see wait_queue.hpp) and the descriptor stays usable.
//
// A source may outlive its reactor (a socket kept after its run returned). Its link state
// says who may still touch the reactor: while `attached`, the reactor is alive; the socket
// closing it claims it (`detaching`) and the reactor's teardown waits for that detach to
// end; a source the teardown reaches first is `orphaned`, after which nothing reaches the
// reactor through it and closing it only frees it (reactor.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <weft/detail/wait_queue.hpp>

#include "task/waker.hpp"

namespace weft::detail {

class reactor;

class io_readiness {
public:
    // The edges seen so far; read before the system call that may fail with EAGAIN.
    std::uint64_t observe() const noexcept {
        // acquire: pairs with signal()'s release, so an edge counted here was raised after
        // the kernel had the data, which the following system call then sees.
        return edges_.load(std::memory_order_acquire);
    }

    // The reactor's driver, for an edge in this direction: counts it and wakes every
    // waiter through `driver`, the waker of the worker that polled. Returns how many it woke.
    std::size_t signal(waker& driver) noexcept;

    // The queue_awaiter primitive of one wait: ready once the count differs from `seen`.
    class wait {
    public:
        wait(io_readiness& direction, std::uint64_t seen) noexcept
            : direction_(direction), seen_(seen) {}

        bool ready_at_once() const noexcept { return direction_.observe() != seen_; }
        bool begin_wait(queued_waiter& waiter) noexcept;

    private:
        io_readiness& direction_;
        const std::uint64_t seen_;
    };

private:
    std::atomic<std::uint64_t> edges_{0};
    wait_queue waiters_;
};

// co_await readiness_awaiter(direction, seen, what): waits for the first edge after `seen`
// (cancellable; `what` names the operation in errors).
class [[nodiscard]] readiness_awaiter {
public:
    readiness_awaiter(io_readiness& direction, std::uint64_t seen, const char* what) noexcept
        : wait_(direction, seen), awaiter_(wait_, what) {}
    readiness_awaiter(const readiness_awaiter&) = delete;

    bool await_ready() noexcept { return awaiter_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        return awaiter_.await_suspend(awaiting);
    }
    void await_resume() { awaiter_.await_resume(); }

private:
    io_readiness::wait wait_;
    queue_awaiter<io_readiness::wait> awaiter_;
};

struct io_source;

// A source that handles its own events instead of waking readiness waiters (the signalfd,
// io/signal_source.hpp): the driver calls it, on its worker, for each event of the source,
// and it returns the tasks it woke through `driver`.
struct io_event_handler {
    std::size_t (*on_event)(void* context, io_source& source, waker& driver) noexcept = nullptr;
    void* context = nullptr;
};

struct io_source {
    io_source(int descriptor, reactor& attached_to, io_event_handler handler = {}) noexcept
        : fd(descriptor), owner(attached_to), handler(handler) {}

    // Whether the reactor's teardown has passed: the runtime this source was made in has
    // ended, and neither its reactor nor its readiness waits may be used.
    bool orphaned() const noexcept {
        // relaxed: the teardown that orphaned it happened before any later use of the
        // source (a later run starts after the earlier one returned, and another thread
        // learns of its end through its own synchronisation), so coherence shows the
        // store; inside its own run the value stays `attached`, as no task outlives it.
        return link_state.load(std::memory_order_relaxed) == orphaned_state;
    }

    const int fd;
    // Reached only while the link state is `attached` or claimed `detaching`.
    reactor& owner;
    // Set before the source reaches the kernel, never changed.
    const io_event_handler handler;
    io_readiness readable;
    io_readiness writable;
    // The reactor's list of detached sources not yet freed.
    io_source* next_released = nullptr;

    static constexpr std::uint8_t attached_state = 0;
    static constexpr std::uint8_t detaching_state = 1;
    static constexpr std::uint8_t orphaned_state = 2;
    std::atomic<std::uint8_t> link_state{attached_state};
    // The reactor's list of the sources attached to it, under its sources lock.
    io_source* previous_attached = nullptr;
    io_source* next_attached = nullptr;
};

} // namespace weft::detail
