// weft::run's compiled half and the stats snapshot: choosing the worker count, refusing
// a nested run or an empty blocking pool, and driving the runtime (runtime.cpp).
#include <weft/errors.hpp>
#include <weft/run.hpp>
#include <weft/runtime_stats.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "runtime.hpp"

namespace weft {

namespace detail {

void run_main(frame_header* main, std::coroutine_handle<> handle, const run_options& options) {
    if (worker::current() != nullptr) {
        throw runtime_error("weft::run() cannot be called from a thread that is running a "
                            "weft runtime; await the coroutine instead");
    }
    if (options.max_blocking_threads == 0) {
        throw std::invalid_argument("weft::run: run_options::max_blocking_threads must be at "
                                    "least 1");
    }
    const std::size_t workers = options.workers != 0
                                    ? options.workers
                                    : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    scheduler runtime(workers, options);
    runtime.run_main(main, handle);
}

} // namespace detail

runtime_stats current_runtime_stats() {
    detail::scheduler& runtime = detail::require_scheduler("weft::current_runtime_stats");
    runtime_stats snapshot;
    snapshot.workers.reserve(runtime.worker_count());
    for (std::size_t id = 0; id < runtime.worker_count(); ++id) {
        snapshot.workers.push_back(runtime.worker_at(id).stats());
    }
    snapshot.blocking = runtime.blocking().stats();
    return snapshot;
}

} // namespace weft
