// Allocation of coroutine frames. Every weft promise type routes operator new/delete here,
// so the allocator is one place to change and to benchmark. The implementation
// (runtime/task/frame_allocator.cpp) keeps a per-thread cache of freed frames by size class;
// a frame may be freed on another thread than the one that allocated it. Out of line
// because they reach a thread_local (see scheduler.hpp).
#pragma once

#include <cstddef>

namespace weft::detail {

// Returns storage for `bytes` bytes aligned for any frame; throws std::bad_alloc.
[[gnu::noinline]] void* allocate_frame(std::size_t bytes);

// Releases storage obtained from allocate_frame with the same `bytes`.
[[gnu::noinline]] void deallocate_frame(void* frame, std::size_t bytes) noexcept;

} // namespace weft::detail
