// Whether header code may name the runtime's thread_locals inline, in a coroutine's body
// among others: WEFT_DETAIL_INLINE_THREAD_LOCALS is defined when g++ compiles it.
//
// A coroutine may resume on another thread, so an address of a thread_local computed before a
// suspension must not be used after it. g++ lowers a coroutine, before it optimises anything,
// into a function entered anew at each resumption, so an address it computes lives only as
// long as one run of the coroutine on one thread; clang optimises a coroutine whole and may
// keep such an address across a suspension (docs/architecture.md, "Thread-local state"). So
// with clang every such access is an out-of-line call; with g++ it is inline. The out-of-line
// functions are defined in every build, so either compiler's code links with the library.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#define WEFT_DETAIL_INLINE_THREAD_LOCALS 1
#endif
