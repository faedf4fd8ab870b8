// completion_awaiter: what `co_await` on a task, a future or a to_thread call returns. It
// waits on the source's waiter list (a resume_waiter, which makes the suspended coroutine
// ready again on the runtime it suspended on) and then yields the source's result.
// completion_access is the one door through which detail code reads a source's private
// parts: its waiter list, result, strand and the messages it names itself with.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

class resume_waiter : public waiter_node {
public:
    // Records who waits and where to resume it; throws weft::runtime_error naming `what`
    // when called outside a runtime.
    void prepare(std::coroutine_handle<> awaiting, const char* what) {
        home_ = &require_running_runtime(what);
        awaiting_ = awaiting;
        wake = &resume;
    }

protected:
    // What a cancellation that took this waiter off its list resumes, and where.
    interruption withdrawn() const noexcept {
        return {interruption::outcome::withdrawn, awaiting_, home_};
    }

private:
    static void resume(waiter_node& node) noexcept {
        auto& self = static_cast<resume_waiter&>(node);
        schedule(*self.home_, self.awaiting_);
    }

    std::coroutine_handle<> awaiting_;
    runtime* home_ = nullptr;
};

// What awaiters and gather need from a task or a future: whether it refers to anything,
// its waiter list and its result. A source keeps these private and befriends this struct.
struct completion_access {
    // A future-like source has no work of its own to cancel: a cancelled awaiter stops
    // waiting on it instead of cancelling it.
    template <class Source>
    static constexpr bool is_future = Source::is_future;
    // The message of the invalid_state_error for awaiting an empty handle.
    template <class Source>
    static constexpr const char* empty_message = Source::empty_message;
    // What require_running_runtime names when the source is awaited outside a runtime.
    template <class Source>
    static constexpr const char* await_description = Source::await_description;

    template <class Source>
    static bool empty(const Source& source) noexcept {
        return !source;
    }
    template <class Source>
    static waiter_list& waiters(const Source& source) noexcept {
        return source.waiters();
    }
    template <class Source>
    static auto& result(const Source& source) noexcept {
        return source.stored_result();
    }
    template <class Source>
    static void mark_retrieved(const Source& source) noexcept {
        source.mark_retrieved();
    }
    // A task's strand word, which cancelling it goes through.
    template <class Source>
    static strand_word& strand(const Source& source) noexcept {
        return source.strand();
    }
    // A task's frame header, where its cancel record is found.
    template <class Source>
    static frame_header& header(const Source& source) noexcept {
        return *source.header();
    }
    // Cancels a task on behalf of a wait that forwards its awaiter's cancellation to it.
    template <class Source>
    static cancel_result forward_cancel(const Source& source) noexcept {
        return source.forward_cancel();
    }
    // Throws invalid_state_error for a task that its runtime destroyed unfinished: it will
    // never complete, and its frame is gone.
    template <class Source>
    static void check_not_torn_down(const Source& source) {
        if constexpr (!is_future<Source>) {
            if (source.torn_down()) {
                throw invalid_state_error(Source::destroyed_message);
            }
        }
    }
};

// `co_await` on a task or a future: waits on its waiter list and returns its result.
// An owning awaiter (`co_await std::move(x)`) keeps the source alive itself and moves the
// result out; the others refer to the awaited handle and copy the result.
//
// Cancelling the awaiting task while it waits: by default a task it awaits is cancelled
// too and awaited to its end (the wait forwards the cancellation); a future is simply no
// longer awaited (the wait is withdrawn: a future has no work to stop, and other awaiters
// or its producer may still need it), and so is a task under weft::shield. Either way the
// await then throws cancelled_error, unless a task it forwarded to failed with another
// exception, which is rethrown instead.
template <class Source, bool Owning, bool Forwards = !completion_access::is_future<Source>>
class completion_awaiter : public resume_waiter, public cancel_target {
public:
    using value_type = typename Source::value_type;

    explicit completion_awaiter(const Source& source) noexcept requires(!Owning)
        : source_(&source) {}
    explicit completion_awaiter(Source&& source) noexcept requires Owning
        : owned_(std::move(source)),
          source_(&owned_) {}
    completion_awaiter(const completion_awaiter&) = delete;
    ~completion_awaiter() {
        if (!completion_access::empty(*source_)) {
            completion_access::waiters(*source_).remove(*this);
        }
    }

    bool await_ready() const {
        if (completion_access::empty(*source_)) {
            throw invalid_state_error(completion_access::empty_message<Source>);
        }
        completion_access::check_not_torn_down(*source_);
        return completion_access::waiters(*source_).done();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        prepare(awaiting, completion_access::await_description<Source>);
        waiter_list& waiters = completion_access::waiters(*source_);
        strand_ = strand_of(awaiting);
        if (strand_ == nullptr) {
            return waiters.enqueue(*this);
        }
        interrupt = &on_cancel;
        if constexpr (Forwards) {
            if (strand_ == &completion_access::strand(*source_)) {
                throw invalid_state_error("a weft::task cannot await itself");
            }
            if (!publish_target(*strand_, *this)) {
                forward_cancellation(); // it was pending: the task is cancelled right away
            }
            return waiters.enqueue(*this);
        } else {
            // Published under the list's lock, so a cancellation finds this waiter either
            // still linked or already woken.
            return waiters.enqueue(*this, [this] { return publish_target(*strand_, *this); });
        }
    }
    value_type await_resume() {
        resume_in(strand_);
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            if constexpr (Forwards) {
                // The task, cancelled too, has ended: a failure of its own (say, in its
                // cleanup) is passed on rather than lost, as asyncio does. Not so when
                // the wait was withdrawn to break a cycle: the task may still be running.
                if (!withdrawn_from_cycle_) {
                    completion_access::mark_retrieved(*source_);
                    const std::exception_ptr error =
                        completion_access::result(*source_).exception();
                    if (error && !is_cancellation(error)) {
                        std::rethrow_exception(error);
                    }
                }
            }
            throw_delivered_cancellation();
        }
        completion_access::mark_retrieved(*source_);
        if constexpr (Owning) {
            return std::move(completion_access::result(*source_)).value();
        } else {
            return completion_access::result(*source_).value();
        }
    }

private:
    cancel_result forward_cancellation() noexcept {
        return completion_access::forward_cancel(*source_);
    }

    interruption withdraw() noexcept {
        if (!completion_access::waiters(*source_).remove(*this)) {
            return {}; // too late: the source completed and is waking this waiter
        }
        return withdrawn();
    }

    static interruption on_cancel(cancel_target& target) noexcept {
        auto& self = static_cast<completion_awaiter&>(target);
        if constexpr (Forwards) {
            if (self.forward_cancellation() != cancel_result::cycle) {
                return {interruption::outcome::forwarded};
            }
            // The awaited task waits, directly or further down, for this one, and this very
            // cancellation is on its way through it: waiting for it to end would never end.
            const interruption done = self.withdraw();
            // Read after the strand leaves the target, which orders it (see request_cancel).
            self.withdrawn_from_cycle_ = done.result == interruption::outcome::withdrawn;
            return done;
        } else {
            return self.withdraw();
        }
    }

    struct nothing_owned {};
    [[no_unique_address]] std::conditional_t<Owning, Source, nothing_owned> owned_;
    const Source* source_;
    strand_word* strand_ = nullptr;
    bool withdrawn_from_cycle_ = false;
};

} // namespace weft::detail
