// weft::runtime_handle's compiled half: the gate's launch and close, and current_runtime.
// A launch registers the task before queuing it, both under the gate's lock (see
// runtime_gate.hpp), so shutdown's drain sees every launch that got in, and teardown, which
// only forgets queued handles, destroys the frame through the registry if it never ran.
#include "scheduler/runtime_gate.hpp"

#include <string>

#include <weft/errors.hpp>
#include <weft/runtime_handle.hpp>

#include "scheduler/runtime.hpp"
#include "task/context_in_use.hpp"

namespace weft {

namespace detail {

void runtime_gate::launch(coro<>& body, const char* what) {
    std::lock_guard guard(mutex_);
    if (runtime_ == nullptr) {
        throw runtime_error(std::string(what) + ": the weft runtime has ended");
    }
    const coro_handle<void> handle = coro_access::release(body);
    handle.promise().ignore_pending_cancel_at_ends();
    worker* here = worker::current();
    const bool on_own_worker = here != nullptr && &here->owner() == runtime_;
    frame_header* header = make_task(handle);
    inherit_context(header->task_strand());
    // One reference, the running coroutine's: no task handle exists.
    runtime_->launch(header, handle, 1, on_own_worker ? here : nullptr);
}

void runtime_gate::close() noexcept {
    std::lock_guard guard(mutex_);
    runtime_ = nullptr;
}

void launch_through(runtime_gate& gate, coro<> body, const char* what) {
    gate.launch(body, what);
}

} // namespace detail

runtime_handle current_runtime() {
    return runtime_handle(detail::require_running_runtime("weft::current_runtime").gate());
}

} // namespace weft
