// The functions that the lower layers declare and the scheduler defines: what time/, io/,
// task/ and blocking/ need of the running runtime, reached without including the
// scheduler's headers (so their includes point down only; scripts/check_layers.sh).
// Each reads the worker running on this thread, or a runtime it is handed.
#include <weft/detail/scheduler.hpp>

#include "blocking/blocking_pool.hpp"
#include "io/io_budget.hpp"
#include "io/reactor.hpp"
#include "io/signal_source.hpp"
#include "scheduler/runtime.hpp"
#include "task/exception_handler.hpp"
#include "time/clock.hpp"
#include "time/timer_driver.hpp"

namespace weft::detail {

std::uint64_t running_clock_ns() noexcept {
    worker* here = worker::current();
    return here ? here->owner().now_ns() : monotonic_ns();
}

timer_driver* running_timer_driver() noexcept {
    worker* here = worker::current();
    return here ? &here->timers : nullptr;
}

reactor& require_running_reactor(const char* what) {
    return require_running_runtime(what).reactor();
}

signal_source& require_running_signal_source(const char* what) {
    return require_running_runtime(what).signals();
}

const exception_handler* running_exception_handler() noexcept {
    worker* here = worker::current();
    if (here == nullptr || !here->owner().exception_handler()) {
        return nullptr;
    }
    return &here->owner().exception_handler();
}

bool spend_io_budget() noexcept {
    worker* here = worker::current();
    return here != nullptr && here->spend_io_budget();
}

blocking_pool& blocking_pool_of(runtime& target) noexcept {
    return target.blocking();
}

} // namespace weft::detail
