// The operation budget of socket I/O (Tokio's coop): a task whose reads or writes keep finding
// their sockets ready never suspends, so without a budget it would hold its worker, and every
// connection waiting behind it, for as long as its peer keeps sending. Each socket operation
// spends one unit of the running worker step's budget first; when none is left, the worker
// polls the reactor at once, queuing the tasks whose sockets became ready meanwhile, and the
// operation yields behind them before it touches the socket.
// Yielding before the operation means a cancellation delivered at the yield loses no data.
#pragma once

#include <cstdint>

namespace weft::detail {

// Socket operations one worker step may make before the task yields. Tokio's budget is 128;
// with reads of 16 bytes (about a microsecond each) 128 kept a ping-pong beside the reader at
// 4.4 times its unloaded p99 and 32 at 1.7 times (bench/fairness_bench.cpp), while a yield
// per 32 system calls costs under 1 % of their time.
inline constexpr std::uint32_t io_operations_per_step = 32;

// Spends one unit of the running step's budget; true if there was none left, in which case
// the caller yields before its operation. False off a worker. Defined by the scheduler
// (scheduler/layer_hooks.cpp), out of line: it reaches the thread's worker.
[[gnu::noinline]] bool spend_io_budget() noexcept;

} // namespace weft::detail
