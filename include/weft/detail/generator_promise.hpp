// The promise and awaiters behind weft::generator<T> (include/weft/generator.hpp).
//
// Pull protocol: the frame runs only inside a next() or a close. The driver claims it
// (generator_node::state from suspended or unstarted to running), names itself as the
// continuation (its strand too, so a cancellation of the driver reaches whatever the
// generator awaits) and transfers into it; co_yield stores the value in the driver's
// awaiter, hands the state back (suspended) and transfers back. A driver is a weft coroutine
// on some worker, so the generator runs there, and an await inside it suspends the driver's
// whole strand, as an inline-awaited coro does.
//
// Closing resumes the frame at its co_yield with `closing_` set, which throws
// generator_exit there; a co_yield reached while closing hands back with ignored_exit_ set
// instead of a value. The frame ends (final suspension) with its error, if any, kept for the
// driver; ending or ignoring the exit unlists the generator from its runtime's registry.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/generator_node.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>

namespace weft {
template <class T>
class generator;
}

namespace weft::detail {

template <class T>
class generator_promise;
template <class T>
using generator_handle = std::coroutine_handle<generator_promise<T>>;

template <class T>
class generator_promise final : public promise_base {
public:
    generator<T> get_return_object() noexcept;

    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct yield_awaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(generator_handle<T> self) const noexcept {
            return self.promise().hand_back(self, false);
        }
        void await_resume() const {
            if (promise.closing_) {
                throw generator_exit();
            }
        }
        generator_promise& promise;
    };
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(generator_handle<T> self) const noexcept {
            return self.promise().hand_back(self, true);
        }
        void await_resume() const noexcept {}
    };

    template <class U = T>
    requires std::is_constructible_v<T, U&&> yield_awaiter yield_value(U&& value) {
        if (closing_) {
            ignored_exit_ = true;
        } else {
            slot_->emplace(std::forward<U>(value));
        }
        return {*this};
    }
    final_awaiter final_suspend() const noexcept { return {}; }

    void return_void() const noexcept {}
    void unhandled_exception() noexcept {
        terminate_if_destroying(generator_handle<T>::from_promise(*this).address());
        error_ = std::current_exception();
    }

    // Called by a driver that claimed the frame, just before it transfers into it. The
    // frame's awaits run in the driver's strand, or in none (`shielded`: no cancellation
    // reaches them).
    template <class Promise>
    void drive(std::coroutine_handle<Promise> driver, std::optional<T>* slot, bool closing,
               bool shielded = false) {
        set_continuation(driver, shielded ? nullptr : strand_of(driver));
        slot_ = slot;
        closing_ = closing;
    }
    std::exception_ptr take_error() noexcept { return std::exchange(error_, nullptr); }
    bool ignored_exit() const noexcept { return ignored_exit_; }

    generator_node node;

private:
    // Hands the frame back to its driver: the last thing done with the promise is reading
    // the continuation; once the state is stored another driver may resume the frame.
    std::coroutine_handle<> hand_back(generator_handle<T> self, bool ending) noexcept {
        const std::coroutine_handle<> driver = continuation();
        generator_state next = generator_state::suspended;
        if (ending || ignored_exit_) {
            next = generator_state::finished;
            unlist_generator(node);
        }
        // release: the next driver's claim (an acquire) sees this step's writes.
        node.state.store(next, std::memory_order_release);
        return transfer_to(self, driver);
    }

    std::optional<T>* slot_ = nullptr;
    std::exception_ptr error_;
    bool closing_ = false;
    bool ignored_exit_ = false;
};

// Claims the frame for a next() or an aclose(): false if it has finished (or, for a close,
// never started, which then counts as finished); throws if another driver holds it.
template <class T>
bool claim(generator_promise<T>& promise, bool for_close, const char* what) {
    // relaxed: only a guess for the compare-exchange, which does the synchronising.
    generator_state seen = promise.node.state.load(std::memory_order_relaxed);
    for (;;) {
        generator_state wanted = generator_state::running;
        if (seen == generator_state::finished) {
            return false;
        }
        if (seen == generator_state::running) {
            throw invalid_state_error(std::string(what) + ": the generator is already running "
                                                          "(in another next() or aclose())");
        }
        if (seen == generator_state::unstarted && for_close) {
            wanted = generator_state::finished;
        }
        // acquire: the last driver's writes to the frame, released when it handed back.
        if (promise.node.state.compare_exchange_weak(seen, wanted, std::memory_order_acquire,
                                                     std::memory_order_relaxed)) {
            if (wanted == generator_state::finished) {
                return false;
            }
            if (seen == generator_state::unstarted) {
                list_generator(promise.node);
            }
            return true;
        }
    }
}

// What co_await gen.next() returns: the next value, or nothing once the generator ended.
template <class T>
class generator_next_awaiter {
public:
    explicit generator_next_awaiter(generator_handle<T> frame) noexcept : frame_(frame) {}

    bool await_ready() const { return !claim(frame_.promise(), false, "weft::generator::next"); }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> consumer) {
        frame_.promise().drive(consumer, &item_, false);
        return transfer_to(consumer, frame_);
    }
    std::optional<T> await_resume() {
        if (std::exception_ptr error = frame_.promise().take_error()) {
            std::rethrow_exception(error);
        }
        return std::move(item_);
    }

private:
    generator_handle<T> frame_;
    std::optional<T> item_;
};

// What co_await gen.aclose() returns. The runtime's own closes (of a generator dropped
// mid-iteration, or claimed by run's finalizer: `claimed`) are `shielded`: the shutdown's
// cancellation of every task does not cut the cleanup short (the grace bounds it).
template <class T>
class generator_close_awaiter {
public:
    generator_close_awaiter(generator_handle<T> frame, bool claimed, bool shielded) noexcept
        : frame_(frame), claimed_(claimed), shielded_(shielded) {}

    bool await_ready() const {
        return !frame_ || (!claimed_ && !claim(frame_.promise(), true, "weft::generator::aclose"));
    }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> closer) {
        frame_.promise().drive(closer, nullptr, true, shielded_);
        return transfer_to(closer, frame_);
    }
    void await_resume() const {
        if (!frame_) {
            return;
        }
        generator_promise<T>& promise = frame_.promise();
        if (promise.ignored_exit()) {
            throw generator_ignored_exit("weft::generator::aclose: the generator yielded a "
                                         "value while being closed (it ignored "
                                         "generator_exit)");
        }
        if (std::exception_ptr error = promise.take_error()) {
            try {
                std::rethrow_exception(error);
            } catch (const generator_exit&) {
                // The generator let the exit end it: the close succeeded.
            }
        }
    }

private:
    generator_handle<T> frame_;
    bool claimed_;
    bool shielded_;
};

template <class T>
void destroy_generator_frame(generator_handle<T> frame) noexcept {
    frame.promise().mark_destroying();
    frame.destroy();
}

// The task run's finalizer launches for a generator it claimed (see generator_node).
template <class T>
coro<> finalize_generator(generator_handle<T> frame) {
    struct end_claim {
        generator_handle<T> frame;
        ~end_claim() {
            if (end_finalizer_claim(frame.promise().node)) {
                destroy_generator_frame(frame);
            }
        }
    } claim_ender{frame};
    co_await generator_close_awaiter<T>(frame, true, true);
}

// Makes `closer` a task that a cancellation pending at its start or end does not end (the
// shutdown's, which reaches every task): it closes a generator, shielded.
inline frame_header* make_closer_task(coro<> closer) noexcept {
    coro_access::promise(closer).ignore_pending_cancel_at_ends();
    frame_header* header = make_task(coro_access::release(closer));
    header->mark_internal();
    return header;
}

template <class T>
frame_header* make_generator_finalizer(generator_node& node) noexcept {
    return make_closer_task(finalize_generator<T>(generator_handle<T>::from_address(node.frame)));
}

} // namespace weft::detail
