// The promise behind weft::coro<T>. One frame type serves three roles, chosen when the
// coroutine is first used: awaited inline by another coroutine, run as a task, or run as
// a gather child. The role decides what its final suspension does:
//   awaited      -> symmetric transfer back to the awaiting coroutine;
//   task         -> complete the task (wake awaiters, drop the running reference);
//   gather child -> count down the gather's join; the last child resumes the awaiter.
// Frames are allocated through detail::allocate_frame with a frame_header in front.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/frame_allocator.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/running_strand.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft {
template <class T>
class coro;
}

namespace weft::detail {

enum class frame_role : std::uint8_t { awaited, task, gather_child };

class promise_base;

// True if `error` is a weft::cancelled_error, which is never reported as unretrieved.
bool is_cancellation(const std::exception_ptr& error) noexcept;

// The check release_task runs on a finished task's frame before destroying it.
template <class Promise>
void report_if_unretrieved(frame_header* header) noexcept {
    Promise& promise = std::coroutine_handle<Promise>::from_address(header->frame()).promise();
    // A value is never reported, nor marked retrieved (task_ref::mark_retrieved).
    if (!promise.result.has_exception()) [[likely]] {
        return;
    }
    // relaxed: the last reference's acq_rel release ordered every reader's RMW before us.
    if ((header->flags.load(std::memory_order_relaxed) & task_flag::exception_retrieved) != 0) {
        return;
    }
    const std::exception_ptr error = promise.result.exception();
    if (error && !is_cancellation(error)) {
        report_unretrieved(error, header);
    }
}

// The check, as an object whose address a finished task's waiter list keeps (complete_task),
// for a reference that does not know the task's result type (weft::any_task).
template <class Promise>
inline constexpr unretrieved_check unretrieved_check_of = &report_if_unretrieved<Promise>;

// A cancellation was pending as the strand ended: consumed, with its message, it ends a
// strand that returned a value cancelled instead, as asyncio's Task does. Out of line, so
// that a gather child's end stays small enough to inline into every final suspension.
template <class Promise>
[[gnu::noinline]] void end_with_pending_cancel(Promise& promise) noexcept {
    note_consumed(*promise.strand());
    if (!promise.ignores_pending_cancel_at_ends() && !promise.result.has_exception()) {
        promise.result.set_exception(delivered_cancellation());
    }
}

// A gather child's end found its word not 0 (end_child_strand_quickly): a request pending,
// which ends it cancelled, or a canceller's claim, which end_strand waits out. One call off
// the inline path, so that the path keeps no register across it.
template <class Promise>
[[gnu::noinline]] void end_child_with_request(Promise& promise) noexcept {
    if (end_strand(*promise.strand())) {
        end_with_pending_cancel(promise);
    }
}

// A task's completion found a cancellation pending (end_task_strand): ends the strand with
// an RMW, which consumes the request unless it was withdrawn meanwhile (task::uncancel).
template <class Promise>
void end_task_cancelled(frame_header* header) noexcept {
    Promise& promise = std::coroutine_handle<Promise>::from_address(header->frame()).promise();
    if (end_strand(*promise.strand())) {
        end_with_pending_cancel(promise);
    }
}

struct final_awaiter {
    bool await_ready() const noexcept { return false; }

    // Not force-inlined: once the join or the task is published another thread may resume
    // or destroy this frame, so nothing here touches the frame after that point.
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
        Promise& promise = self.promise();
        switch (promise.role()) {
        case frame_role::awaited:
            return transfer_to(self, promise.continuation());
        case frame_role::gather_child: {
            if (!end_child_strand_quickly(*promise.strand())) [[unlikely]] {
                end_child_with_request(promise);
            }
            gather_join& join = promise.join();
            if (promise.result.has_exception()) {
                join.record_failure(static_cast<const promise_base*>(&promise));
            }
            const std::coroutine_handle<> next = join.arrive_from_child(self);
            return next ? transfer_to(self, next) : std::noop_coroutine();
        }
        case frame_role::task:
            end_task(self);
            return std::noop_coroutine();
        }
        return std::noop_coroutine();
    }

    // Out of line, so the common roles' paths stay small enough to inline into every
    // coroutine's final suspension.
    template <class Promise>
    [[gnu::noinline]] static void end_task(std::coroutine_handle<Promise> self) noexcept {
        complete_task(frame_header::of(self.address()), &unretrieved_check_of<Promise>,
                      &end_task_cancelled<Promise>);
    }

    void await_resume() const noexcept {}
};

// How the awaiter of a coroutine's first suspension finds its promise again. The awaiter
// spans that suspension, so it lives in the frame, and what it holds costs frame bytes by
// compiler: clang keeps no slot for a reference to the promise (it finds the promise from
// the frame), g++ 12 keeps the reference, 8 bytes that took a trivial task's frame and
// header from 128 to 144 bytes. With g++ the awaiter keeps the promise's distance from
// itself instead, in 32 bits that fit where the frame had padding. It is built in place
// (neither copied nor moved), so it stays where that distance was measured.
class promise_locator {
public:
    promise_locator(const promise_locator&) = delete;
    promise_locator& operator=(const promise_locator&) = delete;

protected:
#if defined(__clang__)
    explicit promise_locator(promise_base& promise) noexcept : promise_(promise) {}
    promise_base& owner() const noexcept {
        return promise_;
    }

private:
    promise_base& promise_;
#else
    explicit promise_locator(promise_base& promise) noexcept
        : promise_offset_(static_cast<std::int32_t>(reinterpret_cast<std::intptr_t>(&promise) -
                                                    reinterpret_cast<std::intptr_t>(this))) {}
    // Integer arithmetic: the promise is outside this object, which pointer arithmetic on
    // `this` may not express.
    promise_base& owner() const noexcept {
        return *reinterpret_cast<promise_base*>(reinterpret_cast<std::intptr_t>(this) +
                                                promise_offset_);
    }

private:
    std::int32_t promise_offset_;
#endif
};

// Forgets the context the strand rooted at `root` had (context_store.hpp).
void forget_strand_context(promise_base& root) noexcept;

class promise_base {
public:
    ~promise_base() {
        if (has_context_) [[unlikely]] {
            forget_strand_context(*this);
        }
    }

    static void* operator new(std::size_t bytes) {
        void* memory = allocate_frame(bytes + sizeof(frame_header));
        return (::new (memory) frame_header())->frame();
    }
    // `bytes` is what operator new was asked for, a constant of the coroutine: the size
    // class is known here, and the common case is one test and the allocator's list push.
    static void operator delete(void* frame, std::size_t bytes) noexcept {
        frame_header* header = frame_header::of(frame);
        // The count is non-zero here only when shutdown destroys a pending task that still
        // has handles or its running reference (its load acquires, pairing with
        // release_task); a count spilled out of the waiter list's word is read out of line.
        if (header->waiters.may_be_counted()) [[unlikely]] {
            release_torn_down_storage(header, bytes + sizeof(frame_header));
            return;
        }
        static_assert(std::is_trivially_destructible_v<frame_header>);
        deallocate_frame(header, bytes + sizeof(frame_header));
    }

    // A task or gather child whose cancellation was requested before its first step ends
    // cancelled without running its body (asyncio never starts such a task).
    class start_awaiter : promise_locator {
    public:
        explicit start_awaiter(promise_base& promise) noexcept : promise_locator(promise) {}

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        void await_resume() const {
            promise_base& promise = owner();
            if (promise.role_ != frame_role::awaited &&
                start_strand(promise.strand_, promise.ignores_cancel_at_ends_)) {
                throw_delivered_cancellation();
            }
        }
    };
    start_awaiter initial_suspend() noexcept { return start_awaiter(*this); }
    final_awaiter final_suspend() const noexcept { return {}; }

    // The awaited role: `awaiting` runs when this coroutine ends, and this coroutine runs
    // in the awaiting one's strand (null if that is not a weft coroutine).
    void set_continuation(std::coroutine_handle<> awaiting, strand_word* strand) noexcept {
        link_ = awaiting.address();
        // relaxed: read by this frame's own awaiters, after the transfer into it.
        strand_.store(reinterpret_cast<std::uintptr_t>(strand), std::memory_order_relaxed);
    }
    std::coroutine_handle<> continuation() const noexcept {
        return std::coroutine_handle<>::from_address(link_);
    }

    // The gather-child role: this coroutine is a child of `join`.
    void join_gather(gather_join& join) noexcept {
        role_ = frame_role::gather_child;
        link_ = &join;
    }
    // A task or gather child that is not a Task in asyncio's sense, so a request pending at
    // either end neither keeps it from starting nor cancels its return: it is delivered at
    // a suspension point or not at all. For a block asyncio runs inline (a task group's
    // body, a timeout's body, wait_for's wrapper of a task), a deadline's watchdog (for
    // which a request is a wake-up) and a runtime_handle's launch (see cancellation_point).
    void ignore_pending_cancel_at_ends() noexcept { ignores_cancel_at_ends_ = true; }
    bool ignores_pending_cancel_at_ends() const noexcept { return ignores_cancel_at_ends_; }
    gather_join& join() const noexcept { return *static_cast<gather_join*>(link_); }

    // The task role: the frame completes a task when it ends.
    void become_task(frame_header& header) noexcept {
        role_ = frame_role::task;
        link_ = &header;
    }

    frame_role role() const noexcept { return role_; }

    // The promise of the root (a task or a gather child) whose strand word `word` is.
    static promise_base& root_of(strand_word& word) noexcept {
        return *reinterpret_cast<promise_base*>(reinterpret_cast<std::uintptr_t>(&word) -
                                                offsetof(promise_base, strand_));
    }
    // Whether the strand whose word `word` is publishes the gathers it awaits in its
    // forwarding slot (cancellation.hpp): one rooted in a gather child, all of whose
    // cancellers make their requests with request_child_cancel.
    static bool publishes_in_slot(strand_word& word) noexcept {
        return root_of(word).role_ == frame_role::gather_child;
    }
    // For the task role: its header.
    frame_header& task_header() const noexcept { return *static_cast<frame_header*>(link_); }
    // For a gather child: the strand of the coroutine awaiting its gather, or null if that
    // is not a weft coroutine.
    strand_word* enclosing_strand() const noexcept { return join().parent_strand; }
    // A gather child that stands for a block asyncio runs inline in the awaiting task (a
    // timeout's body): it shares that task's context.
    bool runs_inline() const noexcept {
        return role_ == frame_role::gather_child && ignores_cancel_at_ends_;
    }
    // Whether the context store holds a context for this root's strand; read and written
    // under the store's lock for that strand (context_store.cpp).
    bool has_context() const noexcept { return has_context_; }
    void set_has_context(bool has) noexcept { has_context_ = has; }

    // Set just before destroy_frame (below) destroys the frame.
    void mark_destroying() noexcept { destroying_ = true; }

protected:
    // An exception thrown by a destructor while destroy_frame() or destroy_task_frame()
    // destroys the frame reaches the promise as if the body had thrown it; C++ ends the
    // program for an exception that leaves a destructor, and so does weft, rather than run a
    // final suspension off its worker. Only a task's frame surely has a header to look at.
    void terminate_if_destroying(void* frame) const noexcept {
        if (destroying_ ||
            (role_ == frame_role::task && frame_header::of(frame)->being_destroyed)) {
            std::terminate();
        }
    }

public:
    // The cancellation word of the strand this frame runs in (see cancellation.hpp), or
    // null for a frame awaited by a coroutine that is not weft's.
    strand_word* strand() noexcept {
        if (role_ != frame_role::awaited) {
            return &strand_;
        }
        // relaxed: see set_continuation.
        return reinterpret_cast<strand_word*>(strand_.load(std::memory_order_relaxed));
    }

    // Where frame_header::task_strand finds the word: the promise's second.
    static constexpr bool strand_is_second_word() noexcept {
        return offsetof(promise_base, strand_) == sizeof(void*);
    }
    // Where forwarding_slot finds the slot: as in a strand_cell.
    static constexpr bool slot_follows_strand() noexcept {
        return offsetof(promise_base, forwarding_) - offsetof(promise_base, strand_) ==
               offsetof(strand_cell, forwarding);
    }

private:
    // The continuation or the join, by role: one slot, since a frame has one role. A
    // sleeping coroutine's frame is mostly promise and timer, so every word counts.
    void* link_ = nullptr;
    // By role, again: a task or a gather child is the root of its strand and keeps the
    // strand's word here, and its forwarding slot right after it (strand_cell's layout,
    // cancellation.hpp); a frame awaited inline keeps the address of its root's word.
    strand_word strand_{0};
    std::atomic<std::int32_t> forwarding_{0};
    frame_role role_ = frame_role::awaited;
    bool ignores_cancel_at_ends_ = false;
    bool destroying_ = false;
    bool has_context_ = false;

    // A frame destroyed while references to its task remain: the last of them frees the
    // storage, `allocated_bytes` with the header (see frame_header). Also reached by a task
    // whose count had spilled out of its waiter list's word, which it frees at once.
    [[gnu::noinline]] static void release_torn_down_storage(frame_header* header,
                                                            std::size_t allocated_bytes) noexcept;
};

template <class T>
class coro_promise final : public promise_base {
    // A frame is aligned to 16 bytes (frame_allocator.hpp), and a promise aligned to more
    // would not sit where frame_header::task_strand looks for it.
    static_assert(alignof(outcome<T>) <= alignof(std::max_align_t),
                  "weft::coro<T>: a result type aligned to more than 16 bytes is not supported");

public:
    coro<T> get_return_object() noexcept;

    template <class U = T>
    void return_value(U&& value) {
        result.emplace_value(std::forward<U>(value));
    }
    void unhandled_exception() noexcept {
        terminate_if_destroying(std::coroutine_handle<coro_promise>::from_promise(*this).address());
        result.set_exception(std::current_exception());
    }

    outcome<T> result;
};

template <>
class coro_promise<void> final : public promise_base {
public:
    coro<void> get_return_object() noexcept;

    void return_void() noexcept { result.emplace_value(); }
    void unhandled_exception() noexcept {
        terminate_if_destroying(std::coroutine_handle<coro_promise>::from_promise(*this).address());
        result.set_exception(std::current_exception());
    }

    outcome<void> result;
};

template <class T>
using coro_handle = std::coroutine_handle<coro_promise<T>>;

// Destroys a weft coroutine's frame that is not (or not known as) a task: awaited inline,
// a gather child, a deadline's work or watchdog, a coro never started. See
// destroy_task_frame for why it is marked first.
template <class T>
void destroy_frame(coro_handle<T> handle) noexcept {
    handle.promise().mark_destroying();
    handle.destroy();
}

// Makes `handle`'s frame a task. The header finds the task's strand word at a constant
// distance from the frame; the compiler knows where it placed the promise, so the check
// that the distance is right folds away.
template <class T>
frame_header* make_task(coro_handle<T> handle) noexcept {
    static_assert(promise_base::strand_is_second_word());
    static_assert(promise_base::slot_follows_strand());
    frame_header* header = frame_header::of(handle.address());
    handle.promise().become_task(*header);
    if (&header->task_strand() != handle.promise().strand()) {
        std::terminate();
    }
    return header;
}

// The strand of an awaiting coroutine: its own if it is a weft coroutine, else none.
template <class Promise>
strand_word* strand_of(std::coroutine_handle<Promise> awaiting) noexcept {
    if constexpr (std::is_base_of_v<promise_base, Promise>) {
        return awaiting.promise().strand();
    } else {
        return nullptr;
    }
}

// `co_await cancellation_point{}` ends the awaiting strand with cancelled_error if a
// cancellation is pending, and goes on without suspending if none is.
struct cancellation_point {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
        strand_word* strand = strand_of(awaiting);
        cancelled_ = strand != nullptr && take_pending_cancel(*strand);
        return false;
    }
    void await_resume() const {
        if (cancelled_) {
            throw_delivered_cancellation();
        }
    }

private:
    bool cancelled_ = false;
};

// Lets task, gather and run take the frame out of a coro.
struct coro_access {
    template <class T>
    static coro_handle<T> release(coro<T>& body) noexcept {
        return std::exchange(body.handle_, {});
    }
    // The frame, still owned by `body` (null for an empty coro).
    template <class T>
    static coro_handle<T> peek(const coro<T>& body) noexcept {
        return body.handle_;
    }
    template <class T>
    static coro_promise<T>& promise(coro<T>& body) noexcept {
        return body.handle_.promise();
    }
};

} // namespace weft::detail
