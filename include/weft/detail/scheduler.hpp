// The narrow interface between header-only coroutine machinery and the compiled runtime.
//
// Everything that reads worker-local state is an out-of-line function defined in
// runtime/*.cpp and marked noinline: a coroutine may resume on another thread, and a
// compiler that inlined a thread_local access into its body may reuse the old thread's
// address after the resumption. The exceptions are the few reads that g++'s builds make
// inline (inline_thread_locals.hpp), each beside the out-of-line function clang's builds call.
#pragma once

#include <coroutine>
#include <cstddef>

namespace weft::detail {

class runtime; // runtime/scheduler/runtime.hpp
class worker;  // runtime/scheduler/worker.hpp
struct frame_header;

// The worker running on this thread, or null; set by worker::run. Read inline only where
// inline_thread_locals.hpp allows it (and by the runtime, which is not a coroutine).
// Initial-exec, like the running strand: every spawn and every gather reads it.
[[gnu::tls_model("initial-exec")]] extern constinit thread_local worker* this_thread_worker;

// The runtime whose worker is running on this thread, or nullptr.
[[gnu::noinline]] runtime* running_runtime() noexcept;

// Like running_runtime(), but throws weft::runtime_error naming `what` outside a runtime.
[[gnu::noinline]] runtime& require_running_runtime(const char* what);

// Makes `handle` ready on `target`. From one of target's workers the handle joins that
// worker's FIFO queue; from any other thread it goes through target's injection queue.
// Once target has shut down the handle is dropped: its frame is destroyed with its task.
[[gnu::noinline]] void schedule(runtime& target, std::coroutine_handle<> handle) noexcept;

// Sets a new task's references to two (the running coroutine and the caller's handle),
// registers it with the running runtime and queues its first step on the calling worker,
// with one look at the thread's worker. False, touching nothing, outside a runtime.
[[gnu::noinline]] bool launch_task(frame_header* header, std::coroutine_handle<> handle) noexcept;

// The message of the runtime_error thrown when `what` is used outside a runtime.
[[noreturn]] void throw_outside_runtime(const char* what);

// Called from a task's final suspension: ends its strand, unregisters it, wakes its
// awaiters and drops the reference the running coroutine held (`*check` as in
// release_task; the waiter list keeps `check` for references that do not know the task's
// result type; `cancelled` as in complete_and_release_task).
[[gnu::noinline]] void complete_task(frame_header* header,
                                     void (*const* check)(frame_header* header) noexcept,
                                     void (*cancelled)(frame_header* header) noexcept) noexcept;

} // namespace weft::detail
