// task_ref<T>: one counted reference to a task's frame, what a weft::task handle is made
// of. Copying adds a reference; dropping the last one frees a finished frame (reporting an
// exception nobody retrieved) or leaves a running task detached. The frame's header holds
// the count, the waiter list, the strand and the flags read here; it outlives a frame that
// the runtime's teardown destroyed, so a handle may still ask whether its task ended.
// weft::task derives from it privately: these members are the task's implementation.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <utility>

#include <weft/detail/cancel_record.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/task_name.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft::detail {

// The cancel() of a task handle, typed or not, on a task it holds a reference to.
inline bool cancel_through_handle(frame_header& header, cancel_message message) noexcept {
    if (header.waiters.done()) {
        // relaxed: as task_ref::mark_retrieved. Untyped, so set whatever the result is.
        header.flags.fetch_or(task_flag::exception_retrieved, std::memory_order_relaxed);
        return false;
    }
    // A task that ended, or that the runtime's teardown destroyed, has its strand marked
    // ended; the frame's memory lives as long as the handle.
    return cancel_task(header, std::move(message));
}

// The name of the task a handle refers to (task_name.hpp); empty handles have none.
inline std::string task_name_of(frame_header* header) {
    if (header == nullptr) {
        throw invalid_state_error("weft::task is empty: it has no name");
    }
    return task_name(*header);
}
inline void rename_task(frame_header* header, std::string name) {
    if (header == nullptr) {
        throw invalid_state_error("weft::task is empty: it cannot be named");
    }
    if (name.empty()) {
        throw invalid_argument("weft::task::set_name: a task's name must not be empty");
    }
    set_task_name(*header, std::move(name));
}

template <class T>
class task_ref {
public:
    static constexpr const char* empty_message = "awaiting an empty weft::task";
    static constexpr const char* destroyed_message =
        "weft::task was destroyed unfinished when its runtime shut down";
    static constexpr const char* await_description = "awaiting a weft::task";
    static constexpr bool is_future = false;

    task_ref() noexcept = default;
    explicit task_ref(coro_handle<T> handle) noexcept : handle_(handle) {}
    task_ref(const task_ref& other) noexcept : handle_(other.handle_) {
        if (handle_) {
            header()->add_reference();
        }
    }
    task_ref(task_ref&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    task_ref& operator=(task_ref other) noexcept {
        std::swap(handle_, other.handle_);
        return *this;
    }
    ~task_ref() {
        if (handle_) {
            release_task(header(), &report_if_unretrieved<coro_promise<T>>);
        }
    }

    bool empty() const noexcept { return !handle_; }
    bool finished() const noexcept { return handle_ && header()->waiters.done(); }

    frame_header* header() const noexcept { return frame_header::of(handle_.address()); }
    waiter_list& waiters() const noexcept { return header()->waiters; }
    outcome<T>& stored_result() const noexcept { return handle_.promise().result; }
    // Through the header, which outlives a frame destroyed at shutdown.
    strand_word& strand() const noexcept { return header()->task_strand(); }
    // Set by the teardown before run() returned, which ordered it before any later use of
    // the handle; within the run it is never set.
    bool torn_down() const noexcept { return header()->torn_down(); }

    // The task's exception, if it finished with one, has been seen: it is not reported as
    // never retrieved. A value needs no mark, and gets none: reading it costs no RMW.
    void mark_retrieved() const noexcept {
        if (finished() && handle_.promise().result.has_exception()) {
            // relaxed: read only by the last reference's release, which orders it.
            header()->flags.fetch_or(task_flag::exception_retrieved, std::memory_order_relaxed);
        }
    }

    // weft::task::cancel.
    bool cancel_task(cancel_message message) const noexcept {
        return handle_ && cancel_through_handle(*header(), std::move(message));
    }
    // An awaiter's cancellation forwarded to the task (see cancel_record.hpp).
    cancel_result forward_cancel() const noexcept { return forward_cancel_to_task(*header()); }
    // weft::task::cancelling and weft::task::uncancel.
    std::size_t cancel_requests() const noexcept {
        return handle_ ? detail::cancel_requests(*header()) : 0;
    }
    std::size_t withdraw_cancel_request() const noexcept {
        return handle_ ? uncancel_task(*header()) : 0;
    }
    // weft::task::name and weft::task::set_name.
    std::string task_name() const { return task_name_of(handle_ ? header() : nullptr); }
    void rename(std::string name) const {
        rename_task(handle_ ? header() : nullptr, std::move(name));
    }

    // The result that result() and exception() read, which then counts as retrieved.
    const outcome<T>& checked_result() const {
        if (!handle_) {
            throw invalid_state_error("weft::task is empty");
        }
        if (!finished()) {
            // relaxed: only chooses the message; a torn-down task never becomes done.
            throw invalid_state_error(torn_down() ? destroyed_message
                                                  : "weft::task::result() called before the "
                                                    "task finished");
        }
        mark_retrieved();
        return handle_.promise().result;
    }

private:
    coro_handle<T> handle_;
};

} // namespace weft::detail
