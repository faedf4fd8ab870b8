// Counters a runtime keeps per worker, and the state of its blocking pool, read as a
// snapshot from inside the runtime. Each worker counter is written only by its worker; a
// snapshot is consistent per counter, not across counters. The pool's figures are read
// together under the pool's lock, so they are consistent with each other.
#pragma once

#include <cstdint>
#include <vector>

namespace weft {

struct worker_stats {
    std::uint64_t tasks_run = 0;      // coroutine steps this worker resumed from its queues
    std::uint64_t tasks_stolen = 0;   // items it took from other workers' queues
    std::uint64_t parks = 0;          // times it went to sleep for lack of work
    std::uint64_t timers_pending = 0; // timers in this worker's wheel (sleeps, deadlines)
};

// The threads weft::to_thread runs blocking calls on.
struct blocking_pool_stats {
    std::uint64_t threads = 0;         // pool threads alive: running a call, or idle
    std::uint64_t idle_threads = 0;    // of those, waiting for a call and not yet handed one
    std::uint64_t queued_calls = 0;    // calls waiting for a thread
    std::uint64_t threads_started = 0; // threads the pool has started
    std::uint64_t threads_retired = 0; // threads that ended after blocking_keep_alive idle
};

struct runtime_stats {
    std::vector<worker_stats> workers;
    blocking_pool_stats blocking;
};

// A snapshot of the current runtime's counters. Throws weft::runtime_error outside a
// runtime.
runtime_stats current_runtime_stats();

} // namespace weft
