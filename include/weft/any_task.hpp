// weft::any_task: a handle to a task whose result type is not known where it is held, what
// current_task() and all_tasks() return (asyncio hands out every Task alike). It shares the
// task as a weft::task handle does and offers what needs no result type: whether it is
// done, its name, and cancellation. Every task<T> converts to it.
//
//     weft::any_task me = weft::current_task();
//     me.set_name("accept-loop");
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <weft/detail/task_handle.hpp>
#include <weft/task.hpp>

namespace weft {

class any_task : private detail::task_handle {
public:
    // An empty handle, refers to no task.
    any_task() noexcept = default;

    template <class T>
    any_task(const task<T>& typed) noexcept // implicit: a task of any type is one
        : task_handle(detail::task_access::share_header(typed)) {}

    explicit operator bool() const noexcept { return header() != nullptr; }

    // As weft::task's members of the same names.
    bool done() const noexcept { return finished(); }
    bool cancel() const noexcept { return cancel_with(nullptr); }
    bool cancel(std::string message) const {
        return cancel_with(std::make_shared<const std::string>(std::move(message)));
    }
    std::size_t cancelling() const noexcept { return cancel_requests(); }
    std::size_t uncancel() const noexcept { return withdraw_cancel_request(); }
    std::string name() const { return task_name(); }
    void set_name(std::string name) const { rename(std::move(name)); }

    // The same task.
    friend bool operator==(const any_task& a, const any_task& b) noexcept {
        return a.header() == b.header();
    }

private:
    friend struct detail::task_access;
    friend struct std::hash<any_task>;

    using handle_type = detail::task_handle;
    explicit any_task(detail::task_handle handle) noexcept : task_handle(std::move(handle)) {}
};

} // namespace weft

template <>
struct std::hash<weft::any_task> {
    std::size_t operator()(const weft::any_task& t) const noexcept {
        return std::hash<const void*>()(t.header());
    }
};
