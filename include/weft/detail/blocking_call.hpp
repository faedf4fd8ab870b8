// One call of weft::to_thread, as the blocking pool and the awaiting coroutine share it:
// the callable with its decay-copied arguments, the outcome, and the list of the one
// coroutine waiting for it, all in one allocation.
//
// Ownership: a reference count. The awaitable holds one reference from to_thread() on; the
// pool takes its own when the call is submitted. The last release deletes the call, on
// whichever thread drops it (a pool thread, after an awaiter that left early).
//
// Phase: a call is queued until the pool claims it (to run it, or to refuse it at shutdown)
// or its awaiter abandons it (it left with cancelled_error, or its frame was destroyed,
// before the call started). One CAS decides, so an abandoned call never starts, and a call
// that started always runs to its end: blocking code is not interrupted.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <weft/detail/context_store.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/outcome.hpp>

namespace weft::detail {

class runtime;

class blocking_job {
public:
    blocking_job(const blocking_job&) = delete;
    blocking_job& operator=(const blocking_job&) = delete;

    void retain() noexcept {
        // relaxed: a reference is made from one the caller holds, which keeps the call
        // alive meanwhile; nothing is published by the count going up.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: release publishes this holder's use of the call; the last holder
        // acquires every other holder's before it deletes the call.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    // The awaiter, leaving without the result: a call that has not started never will.
    void abandon() noexcept {
        std::uint8_t expected = queued;
        // relaxed: the phase only decides who acts; nothing is handed over by it (the
        // pool reads the callable after popping it under the pool's lock, and deletion is
        // ordered by the reference count).
        phase_.compare_exchange_strong(expected, abandoned, std::memory_order_relaxed);
    }

    // The pool, taking the call off its queue: false if the awaiter abandoned it.
    bool claim() noexcept {
        std::uint8_t expected = queued;
        // relaxed: as in abandon().
        return phase_.compare_exchange_strong(expected, claimed, std::memory_order_relaxed);
    }

    // The pool, on a claimed call, on a pool thread: runs the callable and keeps its value
    // or exception for the awaiter.
    virtual void invoke() noexcept = 0;
    // The pool, on a claimed call it will not run: keeps `error` for the awaiter instead.
    virtual void fail(std::exception_ptr error) noexcept = 0;
    // The pool, after invoke() or fail(): publishes the outcome and wakes the awaiter.
    void finish() noexcept {
        waiters.complete([] {});
    }

    // The awaiting coroutine, at most one.
    waiter_list waiters;
    // The caller's context (context_store.hpp), set as the call is submitted: the pool
    // thread runs the call in it.
    context_ptr context;
    // The pool's FIFO link, used only under the pool's lock.
    blocking_job* next_queued = nullptr;

protected:
    blocking_job() = default;
    virtual ~blocking_job() = default;

private:
    static constexpr std::uint8_t queued = 0;
    static constexpr std::uint8_t claimed = 1;
    static constexpr std::uint8_t abandoned = 2;

    std::atomic<std::uint32_t> refs_{1};
    std::atomic<std::uint8_t> phase_{queued};
};

// Puts `job` on `target`'s blocking pool, which takes a reference of its own. Once the
// runtime is shutting down the job is refused at once (it fails with weft::runtime_error).
// Defined in runtime/blocking/blocking_pool.cpp.
void submit_blocking(runtime& target, blocking_job& job) noexcept;

// The typed half: what the awaiter reads. `result` is written by the pool thread before
// finish(), and read by the awaiter only after it (the waiter list publishes it).
template <class R>
class blocking_call : public blocking_job {
public:
    void fail(std::exception_ptr error) noexcept final { result.set_exception(error); }

    outcome<R> result;

protected:
    template <class Call>
    void store_outcome_of(Call&& call) noexcept {
        try {
            if constexpr (std::is_void_v<R>) {
                std::forward<Call>(call)();
                result.emplace_value();
            } else {
                result.emplace_value(std::forward<Call>(call)());
            }
        } catch (...) {
            result.set_exception(std::current_exception());
        }
    }
};

// The callable and its arguments, decay-copied as std::thread does, and invoked once as
// rvalues.
template <class R, class F, class... Args>
class bound_call final : public blocking_call<R> {
public:
    template <class G, class... A>
    explicit bound_call(G&& fn, A&&... args)
        : fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}

    void invoke() noexcept override {
        this->store_outcome_of([this]() -> decltype(auto) {
            return std::apply(
                [this](Args&... args) -> decltype(auto) {
                    return std::invoke(std::move(fn_), std::move(args)...);
                },
                args_);
        });
    }

private:
    F fn_;
    std::tuple<Args...> args_;
};

// An owning reference to a call: the source a completion_awaiter waits on. Like a future,
// a cancelled await withdraws from it rather than cancelling anything.
template <class R>
class blocking_call_ref {
public:
    using value_type = R;

    explicit blocking_call_ref(blocking_call<R>* call) noexcept : call_(call) {}
    blocking_call_ref(blocking_call_ref&& other) noexcept
        : call_(std::exchange(other.call_, nullptr)) {}
    blocking_call_ref& operator=(blocking_call_ref&&) = delete;
    ~blocking_call_ref() {
        if (call_ != nullptr) {
            call_->release();
        }
    }

    // False once moved from: the call was awaited, or handed to an awaiter.
    explicit operator bool() const noexcept { return call_ != nullptr; }
    blocking_call<R>* get() const noexcept { return call_; }

    static constexpr const char* empty_message =
        "awaiting an empty weft::to_thread call (moved from or already awaited)";
    static constexpr const char* await_description = "weft::to_thread";
    static constexpr bool is_future = true;

private:
    friend struct completion_access;

    // Only tasks report unretrieved exceptions.
    void mark_retrieved() const noexcept {}
    waiter_list& waiters() const noexcept { return call_->waiters; }
    outcome<R>& stored_result() const noexcept { return call_->result; }

    blocking_call<R>* call_;
};

} // namespace weft::detail
