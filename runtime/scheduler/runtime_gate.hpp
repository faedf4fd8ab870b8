// The door through which runtime_handles reach their runtime from any thread. The
// scheduler makes one and shares it with every handle; the handles may outlive the
// runtime, the gate outlives them all.
//
// Invariants: `runtime_` is non-null exactly while the gate is open, and both a launch and
// the close hold the mutex. The scheduler closes the gate when its runner closes (for
// weft::run, when main's coroutine has ended), before shutdown's drain, and before the
// scheduler is destroyed. So a launch either got in
// before the close, and then its task is registered (and queued) before the drain reads
// the registry, which cancels and awaits it like any task, or it finds the gate closed and
// is refused; never anything in between, and never a pointer to a dead scheduler.
#pragma once

#include <mutex>

#include <weft/coro.hpp>

namespace weft::detail {

class runtime;

class runtime_gate {
public:
    explicit runtime_gate(runtime& owner) noexcept : runtime_(&owner) {}
    runtime_gate(const runtime_gate&) = delete;
    runtime_gate& operator=(const runtime_gate&) = delete;

    // Any thread: starts `body` as a task of the runtime, with no task handle (its result
    // reaches the caller some other way). Throws weft::runtime_error naming `what` once the
    // gate is closed; `body` is then destroyed by its owner without running.
    void launch(coro<>& body, const char* what);

    // The runtime, as it shuts down: refuses every later launch.
    void close() noexcept;

private:
    std::mutex mutex_;
    runtime* runtime_;
};

} // namespace weft::detail
