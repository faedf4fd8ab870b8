// The waiters of a synchronisation primitive (event, semaphore, lock): a FIFO intrusive list
// of suspended coroutines under a spin lock (its own, or one it shares with another list)
// that the primitive also uses for its own state.
//
// Invariants: a waiter is in the list exactly while `linked` is true, and both are only read
// and written under the lock. A waiter is published as its strand's withdrawing cancellation
// target inside the lock (enqueue), and a canceller takes the same lock (withdraw), so it
// finds the waiter either still linked (it unlinks and resumes it: the primitive gave it
// nothing) or already taken off by the primitive (which resumes it: the cancellation waits
// for the strand's next suspension). Each wait ends exactly once. A primitive whose waiters
// are handed something (a permit, an item) learns when each such waiter resumes, and
// whether a cancellation reached it in between, so it can pass the thing on.
#pragma once

#include <coroutine>
#include <mutex>
#include <type_traits>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/spinlock.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

class wait_queue;

struct queued_waiter : cancel_target {
    queued_waiter* prev = nullptr;
    queued_waiter* next = nullptr;
    std::coroutine_handle<> awaiting;
    runtime* home = nullptr;
    wait_queue* queue = nullptr;
    strand_word* strand = nullptr;
    bool linked = false;
};

class wait_queue {
public:
    // A list under another list's lock, so that one critical section covers both (a
    // queue's getters and putters).
    struct sharing_lock_of {
        wait_queue& owner;
    };

    wait_queue() = default;
    explicit wait_queue(sharing_lock_of other) noexcept : lock_(other.owner.lock_) {}
    wait_queue(const wait_queue&) = delete;
    wait_queue& operator=(const wait_queue&) = delete;

    void lock() noexcept { lock_->lock(); }
    void unlock() noexcept { lock_->unlock(); }

    // A primitive's begin_wait: under the lock, `given_now()` (which may take what is
    // waited for) decides that the waiter need not wait; otherwise it is enqueued. Returns
    // whether the coroutine must suspend. If given_now throws, the lock is released and
    // nothing is enqueued.
    template <class GivenNow>
    bool wait_unless(queued_waiter& waiter, GivenNow&& given_now) noexcept(noexcept(given_now())) {
        std::unique_lock held(*this);
        if (given_now()) {
            held.unlock();
            waiter.strand = nullptr; // nothing published: nothing to leave
            return false;
        }
        return enqueue(waiter);
    }

    // Under the lock: the longest waiting waiter, unlinked, or null. Whoever takes it must
    // resume it (read what it needs first: once resumed, the waiter may be gone).
    queued_waiter* pop_front() noexcept;

    bool empty() const noexcept { return head_ == nullptr; }

private:
    // Under the lock: links `waiter` at the back and publishes it as its strand's
    // cancellation target; false, linking nothing, if a cancellation was pending (the
    // strand's word then says so, and the waiter must not suspend).
    bool enqueue(queued_waiter& waiter) noexcept;

    // A cancellation's interruption: unlinks the waiter if it is still waiting.
    static interruption withdraw(cancel_target& target) noexcept;
    void unlink(queued_waiter& waiter) noexcept;

    spinlock own_lock_;
    spinlock* lock_ = &own_lock_;
    queued_waiter* head_ = nullptr;
    queued_waiter* tail_ = nullptr;
};

// The awaiter of a primitive's wait. `Primitive::begin_wait(waiter)` runs when the coroutine
// is about to suspend and returns whether it must (false: the primitive gave what was waited
// for at once, or a cancellation was pending). `what` names the wait in errors. An awaiter
// that is not Cancellable publishes no target: a cancellation requested meanwhile waits for
// the strand's next suspension point.
//
// When `Primitive::hands_over` is true, a waiter the primitive woke was handed what it
// waited for, and `Primitive::end_handoff(cancelled)` runs as it resumes: with cancelled
// true (a cancellation arrived after the handoff; the await then throws cancelled_error)
// it must pass what was handed on. The awaiter may be moved until it is awaited (to hand it to
// create_task, wait_for or gather); moving one that is suspended is a precondition
// violation.
template <class Primitive, bool Cancellable = true>
class [[nodiscard]] queue_awaiter {
public:
    queue_awaiter(Primitive& target, const char* what) noexcept : target_(&target), what_(what) {}
    queue_awaiter(queue_awaiter&& other) noexcept : target_(other.target_), what_(other.what_) {}
    queue_awaiter(const queue_awaiter&) = delete;

    bool await_ready() noexcept { return target_->ready_at_once(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        waiter_.awaiting = awaiting;
        waiter_.home = &require_running_runtime(what_);
        if constexpr (Cancellable) {
            waiter_.strand = strand_of(awaiting);
        } else {
            resumes_in_ = strand_of(awaiting);
        }
        return target_->begin_wait(waiter_);
    }
    void await_resume() {
        if constexpr (Cancellable) {
            resume_in(waiter_.strand);
        } else {
            resume_in(resumes_in_);
        }
        if (waiter_.strand != nullptr && leave_target(*waiter_.strand, waiter_)) {
            throw_delivered_cancellation();
        }
        if constexpr (hands_over) {
            if (waiter_.queue != nullptr) { // it waited, and the primitive handed it the thing
                const bool cancelled =
                    waiter_.strand != nullptr && take_pending_cancel(*waiter_.strand);
                target_->end_handoff(cancelled);
                if (cancelled) {
                    throw_delivered_cancellation();
                }
            }
        }
    }

private:
    static constexpr bool hands_over = [] {
        if constexpr (requires { Primitive::hands_over; }) {
            return Primitive::hands_over;
        } else {
            return false; // an event, a join: their waiters are woken, handed nothing
        }
    }();

    struct no_strand {};

    Primitive* target_;
    const char* what_;
    queued_waiter waiter_;
    // A cancellable waiter keeps its strand in waiter_.strand; this one keeps it here, only to
    // name it as it resumes (running_strand.hpp).
    [[no_unique_address]] std::conditional_t<Cancellable, no_strand, strand_word*> resumes_in_{};
};

} // namespace weft::detail
