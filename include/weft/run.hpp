// weft::run: the entry point for the simple case (asyncio.run). It creates a fresh runtime (a
// weft::runner, weft/runner.hpp, used for this one main), runs `main` to completion, shuts
// the runtime down and returns main's value or rethrows its exception.
//
//     int main() { return weft::run(serve(), weft::run_options{.workers = 2}); }
//
// The calling thread becomes worker 0. At shutdown every worker is joined and every task
// still pending is destroyed without being resumed again; run then waits for the blocking
// calls (weft::to_thread) still running and joins the blocking pool's threads. Calling run
// from a thread that is running a weft runtime throws weft::runtime_error. Each call,
// sequential or from several threads at once, gets its own runtime.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/detail/run_main.hpp>

namespace weft {

// The most worker threads a runtime takes.
inline constexpr std::size_t max_workers = 4096;

// run checks these before it starts anything: a field out of range makes it throw
// weft::invalid_argument, naming the field.
struct run_options {
    // Worker threads, at most max_workers; 0 means std::thread::hardware_concurrency() (at
    // least 1).
    std::size_t workers = 0;
    // Virtual time: weft::clock starts at zero and, whenever every worker is idle and a
    // timer is pending, jumps straight to the earliest deadline, so sleeps cost no real
    // time (Tokio's start_paused). For exact, instant tests of timing logic. The clock
    // stands still while a weft::to_thread call is queued or running, which takes real time.
    bool virtual_time = false;
    // When main ends, every task still pending is cancelled, and run waits for them to
    // end (asyncio.run). A task still pending this long after (on weft::clock, so virtual
    // in virtual time) is reported on stderr and destroyed without being resumed. Not
    // negative; nanoseconds::max() waits for ever.
    std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(5);
    // Receives the exception of a task that failed and whose exception nobody retrieved
    // (by awaiting the task, result(), exception() or a gather), when its last handle is
    // gone, or, for a task without handles, once the worker it ended on lets it go, by that
    // worker's next idle moment (asyncio's "Task exception was never retrieved"). Empty:
    // written to stderr. It runs on the worker that dropped the last reference and must not
    // throw.
    std::function<void(std::exception_ptr)> exception_handler = {};
    // weft::to_thread runs blocking calls on a pool of threads beside the workers, started
    // on demand up to this many (Tokio's default cap); further calls wait for a thread in
    // FIFO order. At least 1.
    std::size_t max_blocking_threads = 512;
    // A pool thread idle this long ends; the next call that finds no idle thread starts a
    // new one. Real time, even with virtual_time. Not negative.
    std::chrono::nanoseconds blocking_keep_alive = std::chrono::seconds(10);
    // The signals tasks may wait for (weft/signal.hpp). run blocks them in its thread before
    // the workers start, and restores that thread's mask when it returns. Each a signal
    // number other than SIGKILL, SIGSTOP and the faults (weft::signal_error).
    std::vector<int> signals = {};
    // asyncio.run's Ctrl-C: a SIGINT no task waits or listens for cancels main (which may
    // clean up); the next one, or one after main ended, ends the process as SIGINT's
    // default action does. Off by default: it takes SIGINT from the rest of the program.
    bool interrupt_cancels_main = false;
};

// Runs `main` on a new runtime and returns its value or rethrows its exception, once the
// runtime has shut down. Throws invalid_state_error for an empty coro.
template <class T>
T run(coro<T> main, run_options options = {}) {
    return detail::run_to_completion(std::move(main), options);
}

} // namespace weft
