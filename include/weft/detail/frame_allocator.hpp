// Allocation of coroutine frames. Every weft promise type routes operator new/delete here,
// so the allocator is one place to change and to benchmark. The implementation
// (runtime/task/frame_allocator.cpp) keeps a per-thread free list of frames by 16-byte size
// class up to 1 KiB; a frame may be freed on another thread than the one that allocated it.
//
// The size class is chosen here, inline, where a frame's size is a constant, so the
// out-of-line part of the common case is a list pop or push. Out of line because it
// reaches a thread_local (see scheduler.hpp).
#pragma once

#include <cstddef>

namespace weft::detail {

inline constexpr std::size_t frame_granule = 16;
inline constexpr std::size_t frame_size_classes = 64;

// Storage for a frame of size class `size_class` (< frame_size_classes): (size_class + 1)
// granules, aligned for any frame; throws std::bad_alloc.
[[gnu::noinline]] void* allocate_small_frame(std::size_t size_class);
// Releases storage obtained from allocate_small_frame with the same class.
[[gnu::noinline]] void deallocate_small_frame(void* frame, std::size_t size_class) noexcept;
// The same for frames larger than the size classes.
[[gnu::noinline]] void* allocate_large_frame(std::size_t bytes);
[[gnu::noinline]] void deallocate_large_frame(void* frame) noexcept;

// Returns storage for `bytes` bytes aligned for any frame; throws std::bad_alloc.
inline void* allocate_frame(std::size_t bytes) {
    if (bytes <= frame_granule * frame_size_classes) {
        return allocate_small_frame((bytes - 1) / frame_granule);
    }
    return allocate_large_frame(bytes);
}

// Releases storage obtained from allocate_frame with the same `bytes`.
inline void deallocate_frame(void* frame, std::size_t bytes) noexcept {
    if (bytes <= frame_granule * frame_size_classes) {
        deallocate_small_frame(frame, (bytes - 1) / frame_granule);
    } else {
        deallocate_large_frame(frame);
    }
}

} // namespace weft::detail
