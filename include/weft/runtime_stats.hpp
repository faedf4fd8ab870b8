// Counters a runtime keeps per worker, read as a snapshot from inside the runtime. Each
// counter is written only by its worker; a snapshot is consistent per counter, not
// across counters.
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

struct runtime_stats {
    std::vector<worker_stats> workers;
};

// A snapshot of the current runtime's counters. Throws weft::runtime_error outside a
// runtime.
runtime_stats current_runtime_stats();

} // namespace weft
