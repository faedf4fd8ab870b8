// How weft::run (include/weft/run.hpp) and weft::runner::run (include/weft/runner.hpp)
// drive a main coroutine: main becomes a task with the one reference its caller's handle
// holds, the runtime runs it until it has ended (for weft::run, and shuts down), and the
// caller then takes main's result through that handle.
#pragma once

#include <atomic>
#include <coroutine>
#include <string>

#include <weft/coro.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft {

struct run_options;

namespace detail {

// Drives `main` (a task frame whose references the caller set) to completion on a runner
// of its own (runtime/scheduler/run.cpp), which it closes before returning.
void run_main(frame_header* main, std::coroutine_handle<> handle, const run_options& options);

// A main coroutine made a task, not launched yet; `owner` holds its one reference.
template <class T>
struct main_frame {
    frame_header* header;
    std::coroutine_handle<> handle;
    task<T> owner;
};

// Throws invalid_state_error, naming `caller`, for an empty coro.
template <class T>
main_frame<T> make_main_frame(coro<T> main, const char* caller) {
    coro_handle<T> handle = coro_access::release(main);
    if (!handle) {
        throw invalid_state_error(std::string(caller) +
                                  ": the coro is empty (moved from or already awaited)");
    }
    frame_header* header = make_task(handle);
    // Nothing else can see the frame yet. One reference, held by `owner`.
    header->set_references(1);
    return {header, handle, task_access::adopt(handle)};
}

template <class T>
T run_to_completion(coro<T> main, const run_options& options) {
    main_frame<T> frame = make_main_frame(std::move(main), "weft::run");
    run_main(frame.header, frame.handle, options);
    return task_access::take_result(frame.owner);
}

} // namespace detail

} // namespace weft
