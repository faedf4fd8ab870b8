// weft::run's compiled half and the stats snapshot: refusing a nested run, then running
// main on a runner of its own (runner.cpp), which the runner's destructor shuts down.
#include <weft/errors.hpp>
#include <weft/run.hpp>
#include <weft/runner.hpp>
#include <weft/runtime_stats.hpp>

#include "scheduler/runtime.hpp"

namespace weft {

namespace detail {

void run_main(frame_header* main, std::coroutine_handle<> handle, const run_options& options) {
    // Before the runner starts any thread.
    if (worker::current() != nullptr) {
        throw runtime_error("weft::run() cannot be called from a thread that is running a "
                            "weft runtime; await the coroutine instead");
    }
    runner once(options, "weft::run");
    once.run_frame(main, handle);
}

} // namespace detail

runtime_stats current_runtime_stats() {
    detail::runtime& here = detail::require_running_runtime("weft::current_runtime_stats");
    runtime_stats snapshot;
    snapshot.workers.reserve(here.worker_count());
    for (std::size_t id = 0; id < here.worker_count(); ++id) {
        snapshot.workers.push_back(here.worker_at(id).stats());
    }
    snapshot.blocking = here.blocking().stats();
    return snapshot;
}

} // namespace weft
