// How weft's awaiters hand the thread to another coroutine. Every await_suspend that would
// return a coroutine handle (into an inline-awaited coro, back to its awaiter, into the
// first child of a gather or a deadline, from a gather's last child back to its parent)
// returns transfer_to(suspending, next) instead, so that one switch decides, per build,
// whether the hand-over is a real symmetric transfer or goes through the worker's
// trampoline.
//
// A symmetric transfer only keeps the stack flat if the compiler makes it a tail call.
// clang always does (musttail); g++ 12 does only with -foptimize-sibling-calls (on from
// -O2) and never under -fsanitize=address or thread, so a million-deep chain of awaits
// overflows the stack there. In those builds transfer_to parks `next` in the worker's
// "resume next" slot and returns noop_coroutine(): the suspending coroutine returns to the
// worker loop, which resumes the parked handle (runtime/scheduler/worker.cpp). Where the tail call
// works the trampoline would cost about 9 % of a fork-join benchmark, so it stays off.
// WEFT_TRAMPOLINE (0 or 1) decides; left undefined it is 1 for g++ at -O0 or with ASan or
// TSan. No macro tells g++'s -O1 or -Og from -O2: weft's CMakeLists defines it from the
// build's flags, and a project using an installed weft at those levels defines it itself.
// Every translation unit of a program must make the same choice. The measurements are in
// docs/architecture.md ("Symmetric transfer and the trampoline").
#pragma once

#include <coroutine>

#ifndef WEFT_TRAMPOLINE
#if defined(__clang__)
#define WEFT_TRAMPOLINE 0
#elif defined(__GNUC__) &&                                                                         \
    (!defined(__OPTIMIZE__) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#define WEFT_TRAMPOLINE 1
#else
#define WEFT_TRAMPOLINE 0
#endif
#endif

namespace weft::detail {

// If `suspending` is the coroutine this thread's worker loop resumed (so its suspension
// returns straight to the loop): parks `next` in the worker's slot and returns
// noop_coroutine(), and the loop resumes `next` next. Otherwise returns `next` for a plain
// symmetric transfer, which keeps the order exact where control would not return to the
// loop: off a worker, or in a coroutine started or resumed inline by a foreign coroutine
// or awaitable. Out of line: it reads worker-local state (see scheduler.hpp).
[[gnu::noinline]] std::coroutine_handle<>
defer_to_trampoline(std::coroutine_handle<> suspending, std::coroutine_handle<> next) noexcept;

// What an await_suspend of `suspending` returns to run `next` once `suspending` has
// suspended.
inline std::coroutine_handle<> transfer_to([[maybe_unused]] std::coroutine_handle<> suspending,
                                           std::coroutine_handle<> next) noexcept {
#if WEFT_TRAMPOLINE
    return defer_to_trampoline(suspending, next);
#else
    return next;
#endif
}

} // namespace weft::detail
