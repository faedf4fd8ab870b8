// task_access: how the runtime's own code makes a task handle from a frame it launched and
// takes a finished task's result, neither of which a user may do. weft::task befriends it.
#pragma once

#include <utility>

#include <weft/detail/promise.hpp>

namespace weft {
template <class T>
class task;
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
    static T take_result(task<T>& t) {
        t.mark_retrieved();
        return std::move(t.stored_result()).value();
    }
};

} // namespace weft::detail
