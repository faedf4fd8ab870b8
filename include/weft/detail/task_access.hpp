// task_access: how the runtime's own code launches a task and makes a handle from its frame,
// and takes a finished task's result, none of which a user may do. weft::task and
// weft::any_task befriend it.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/task_ref.hpp>
#include <weft/errors.hpp>

namespace weft {
template <class T>
class task;
class any_task;
} // namespace weft

namespace weft::detail {

struct task_access {
    // Wraps a launched or about-to-be-launched frame in a handle without counting it:
    // the count was already set for this handle.
    template <class T>
    static task<T> adopt(coro_handle<T> handle) noexcept {
        return task<T>(handle);
    }
    template <class T>
    static frame_header* header_of(const task<T>& t) noexcept {
        return t.header();
    }
    // A new counted reference to `t`'s task, by header (weft::any_task); null if empty.
    template <class T>
    static frame_header* share_header(const task<T>& t) noexcept {
        if (t.empty()) {
            return nullptr;
        }
        t.header()->add_reference();
        return t.header();
    }
    // Wraps a reference already counted for it.
    template <class AnyTask = any_task>
    static AnyTask adopt_any(frame_header* counted) noexcept {
        return AnyTask(typename AnyTask::handle_type(counted));
    }
    // weft::create_task: makes `body`'s frame a task, names it unless `name` is empty, and
    // launches it on the running runtime.
    template <class T>
    static task<T> launch(coro<T>& body, std::string_view name) {
        const coro_handle<T> handle = coro_access::peek(body);
        if (!handle) {
            throw invalid_state_error("weft::create_task: the coro is empty (moved from or "
                                      "already awaited)");
        }
        frame_header* header = make_task(handle);
        if (!name.empty()) {
            // Named before the launch, which cannot fail after this check, so the task's
            // first step sees its name and no record outlives a task never launched.
            require_running_runtime("weft::create_task");
            rename_task(header, std::string(name));
        }
        if (!launch_task(header, handle)) {
            throw_outside_runtime("weft::create_task");
        }
        coro_access::release(body);
        return adopt(handle);
    }
    template <class T>
    static T take_result(task<T>& t) {
        t.mark_retrieved();
        return std::move(t.stored_result()).value();
    }
};

} // namespace weft::detail
