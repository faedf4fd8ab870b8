// How weft::run (include/weft/run.hpp) drives its main coroutine: main becomes the first
// task of a new runtime, with the one reference run holds, and run_main
// (runtime/scheduler/run.cpp) runs the runtime until main has ended and the runtime has
// shut down; run then takes main's result.
#pragma once

#include <atomic>
#include <coroutine>

#include <weft/coro.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft {

struct run_options;

namespace detail {

// Drives `main` (a task frame whose references the caller set) to completion on a new
// runtime, then shuts the runtime down.
void run_main(frame_header* main, std::coroutine_handle<> handle, const run_options& options);

template <class T>
T run_to_completion(coro<T> main, const run_options& options) {
    coro_handle<T> handle = coro_access::release(main);
    if (!handle) {
        throw invalid_state_error("weft::run: the coro is empty (moved from or already "
                                  "awaited)");
    }
    frame_header* header = make_task(handle);
    // relaxed: nothing else can see the frame yet. One reference, held by main_task.
    header->refs.store(1, std::memory_order_relaxed);
    task<T> main_task = task_access::adopt(handle);
    run_main(header, handle, options);
    return task_access::take_result(main_task);
}

} // namespace detail

} // namespace weft
