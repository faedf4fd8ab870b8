// weft::current_task() and weft::all_tasks() (include/weft/current_task.hpp).
//
// The running task is found from the thread's running strand (running_strand.hpp): a task's
// strand is its own; a gather child's leads, through its join, to the strand of the
// coroutine awaiting the gather, and on up to a task. That task has not ended: its strand
// is running or waiting on the gather, so its running reference keeps it alive while a new
// handle's reference is added. all_tasks() adds its references under the registry's shard
// locks, to the registered tasks that are not done: until it is unregistered, a task holds
// its running reference.
#include <weft/current_task.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/running_strand.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/task_access.hpp>

#include <atomic>
#include <cstddef>
#include <vector>

#include "scheduler/runtime.hpp"
#include "scheduler/task_identity.hpp"

namespace weft {
namespace {

detail::frame_header* running_task(detail::strand_word* strand) noexcept {
    while (strand != nullptr) {
        detail::promise_base& root = detail::promise_base::root_of(*strand);
        if (root.role() == detail::frame_role::task) {
            detail::frame_header& task = root.task_header();
            return task.internal() ? nullptr : &task;
        }
        strand = root.enclosing_strand();
    }
    return nullptr;
}

any_task share(detail::frame_header* header) noexcept {
    // The caller knows the task alive (see above).
    header->add_reference();
    return detail::task_access::adopt_any(header);
}

} // namespace

any_task current_task() {
    detail::require_running_runtime("weft::current_task");
    detail::frame_header* header = running_task(detail::this_thread_strand);
    return header != nullptr ? share(header) : any_task();
}

std::vector<any_task> all_tasks() {
    return detail::pending_tasks(detail::require_running_runtime("weft::all_tasks"), false);
}

std::vector<any_task> detail::pending_tasks(runtime& here, bool with_internal) {
    std::vector<any_task> pending;
    // Allocation happens outside the registry's spin locks: the room is made first, and a
    // registry that outgrew it meanwhile is read again with more.
    for (std::size_t room = here.registry().size() + 16;; room *= 2) {
        pending.clear();
        pending.reserve(room);
        bool fitted = true;
        here.registry().for_each([&](detail::frame_header* header) {
            // A task that ended and waits in a batch to be unregistered is not pending.
            if ((!with_internal && header->internal()) || header->waiters.done()) {
                return;
            }
            if (pending.size() == room) {
                fitted = false;
            } else {
                pending.push_back(share(header));
            }
        });
        if (fitted) {
            return pending;
        }
    }
}

} // namespace weft
