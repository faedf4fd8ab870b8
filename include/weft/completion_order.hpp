// weft::in_completion_order: weft::as_completed as a generator (asyncio 3.13's
// `async for task in as_completed(tasks)`). It yields each task once it is done, in the order
// they end; tasks already done come first, in input order. Like as_completed it cancels no
// task; closing it early (or dropping it) leaves the tasks not yet yielded running, their
// handles dropped.
//
//     auto tasks = ...;   // std::vector<weft::task<int>>
//     auto done = weft::in_completion_order(std::move(tasks));
//     while (auto t = co_await done.next()) use(t->result());
#pragma once

#include <utility>
#include <vector>

#include <weft/generator.hpp>
#include <weft/task.hpp>
#include <weft/wait.hpp>

namespace weft {

// Throws invalid_state_error (from the first next()) if a handle in `tasks` is empty.
template <class T>
generator<task<T>> in_completion_order(std::vector<task<T>> tasks) {
    as_completed<T> stream(std::move(tasks));
    while (stream.remaining() != 0) {
        co_yield co_await stream.next();
    }
}

} // namespace weft
