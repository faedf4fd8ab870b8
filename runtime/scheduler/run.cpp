// weft::run's compiled half and the stats snapshot: choosing the worker count, refusing
// a nested run or options out of range, and driving the runtime (runtime.cpp).
#include <weft/errors.hpp>
#include <weft/run.hpp>
#include <weft/runtime_stats.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "io/signal_source.hpp"
#include "scheduler/runtime.hpp"

namespace weft {

namespace detail {
namespace {

// Refuses options that cannot work before anything starts. A negative count converted to
// size_t lands far above max_workers; a negative duration would be read as a huge unsigned
// one (a negative grace once made shutdown wait forever for a straggler).
void validate(const run_options& options) {
    if (options.workers > max_workers) {
        throw invalid_argument("weft::run: run_options::workers is " +
                               std::to_string(options.workers) + "; at most " +
                               std::to_string(max_workers) + " (0 means one per CPU)");
    }
    if (options.shutdown_grace < std::chrono::nanoseconds::zero()) {
        throw invalid_argument("weft::run: run_options::shutdown_grace is negative (" +
                               std::to_string(options.shutdown_grace.count()) +
                               " ns); zero ends the drain at once");
    }
    if (options.max_blocking_threads == 0) {
        throw invalid_argument("weft::run: run_options::max_blocking_threads must be at "
                               "least 1");
    }
    if (options.blocking_keep_alive < std::chrono::nanoseconds::zero()) {
        throw invalid_argument("weft::run: run_options::blocking_keep_alive is negative (" +
                               std::to_string(options.blocking_keep_alive.count()) +
                               " ns); zero ends an idle pool thread at once");
    }
    for (const int signo : options.signals) {
        check_signal_number(signo, "weft::run: run_options::signals");
    }
}

} // namespace

void run_main(frame_header* main, std::coroutine_handle<> handle, const run_options& options) {
    if (worker::current() != nullptr) {
        throw runtime_error("weft::run() cannot be called from a thread that is running a "
                            "weft runtime; await the coroutine instead");
    }
    validate(options);
    const std::size_t workers = options.workers != 0
                                    ? options.workers
                                    : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    runtime instance(workers, options);
    instance.run_main(main, handle);
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
