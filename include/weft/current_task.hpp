// weft::current_task() and weft::all_tasks() (asyncio's functions of the same names).
//
//     for (const weft::any_task& t : weft::all_tasks()) {
//         std::printf("%s%s\n", t.name().c_str(), t == weft::current_task() ? " (me)" : "");
//     }
#pragma once

#include <vector>

#include <weft/any_task.hpp>

namespace weft {

// The task whose code calls it. A gather's children are not tasks of their own in weft:
// inside one, the task that awaits the gather (through nested gathers too). Empty in a done
// callback (asyncio runs callbacks outside any task) and in code
// that is not a weft coroutine (a to_thread call, a coroutine type of another library).
// Throws weft::runtime_error outside a runtime, as asyncio does with no running loop.
any_task current_task();

// Every task of the running runtime that has not ended, the caller's included, in no
// particular order; not the runtime's own (the runners of done callbacks, the closers of
// generators). Throws weft::runtime_error outside a runtime.
std::vector<any_task> all_tasks();

} // namespace weft
