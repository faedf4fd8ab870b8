// Allocation of coroutine frames. Every weft promise type routes operator new/delete here,
// so the allocator is one place to change and to benchmark. The implementation
// (runtime/task/frame_allocator.cpp) keeps a per-thread free list of frames by 16-byte size
// class up to 1 KiB; a frame may be freed on another thread than the one that allocated it.
//
// The size class is chosen here, inline, where a frame's size is a constant, so the
// out-of-line part of the common case is a list pop or push. When g++ compiles this header
// without a sanitizer, the pop and the push themselves are inline too: they read the thread's
// lists through a thread_local, which g++ cannot carry across a suspension
// (inline_thread_locals.hpp; clang can, and calls the out-of-line functions); under
// AddressSanitizer the lists poison what they hold, and under ThreadSanitizer frames bypass
// them, both in the out-of-line functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#include <weft/detail/inline_thread_locals.hpp>

#if defined(WEFT_DETAIL_INLINE_THREAD_LOCALS) && !defined(__SANITIZE_ADDRESS__) &&                 \
    !defined(__SANITIZE_THREAD__)
#define WEFT_DETAIL_INLINE_FRAME_LISTS 1
#endif

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

// A free frame: its first word links it to the next of its list.
struct free_frame {
    free_frame* next;
};

// What the fast paths read of a thread's lists: per size class, the newest free frame, how
// many more frames the list may take, the unused rest of the class's current slab,
// [slab_next, slab_end), and the oldest free frame (pushed first, popped last; stale while the
// list is empty), with which a full list moves to the pool without a walk. The allocator
// keeps the rest of the thread's state beside them (runtime/task/frame_allocator.cpp).
struct frame_lists {
    std::array<free_frame*, frame_size_classes> heads;
    std::array<std::uint32_t, frame_size_classes> room;
    std::array<char*, frame_size_classes> slab_next;
    std::array<char*, frame_size_classes> slab_end;
    std::array<free_frame*, frame_size_classes> tails;
};

// A frame spans this many lines of 64 bytes (a trivial task's, with its header): the lines a
// pop fetches of the frame the next pop will hand out.
inline constexpr std::size_t frame_prefetched_lines = 3;
inline constexpr std::size_t frame_cache_line_bytes = 64;

// Takes the newest frame of a class's list; null if the list is empty.
inline free_frame* pop_free_frame(frame_lists& lists, std::size_t size_class) noexcept {
    free_frame* const frame = lists.heads[size_class];
    if (frame == nullptr) [[unlikely]] {
        return nullptr;
    }
    free_frame* const next = frame->next;
    lists.heads[size_class] = next;
    // The next pop reads the new head's link, and its caller writes the frame. In a burst of
    // spawns the list's frames were freed long ago and are cold, and each miss would stall
    // the next locked instruction, which waits for pending stores (docs/benchmarks.md).
    // Fetched for writing now, the lines arrive while this frame is used; for a frame in the
    // cache, as fork-join reuses them, this costs only the prefetch instructions. Integers:
    // `next` may be null (the list's last frame), and a prefetch of any address is harmless.
    for (std::size_t line = 0; line < frame_prefetched_lines; ++line) {
        __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(next) +
                                                         line * frame_cache_line_bytes),
                           1);
    }
    ++lists.room[size_class];
    return frame;
}

// Cuts a frame of `size_class` from the class's current slab, as a burst of new frames (a
// million tasks spawned at once) finds the list empty; null if the slab is used up.
inline void* carve_frame(frame_lists& lists, std::size_t size_class) noexcept {
    char* const next = lists.slab_next[size_class];
    const std::size_t bytes = (size_class + 1) * frame_granule;
    if (static_cast<std::size_t>(lists.slab_end[size_class] - next) < bytes) [[unlikely]] {
        return nullptr;
    }
    lists.slab_next[size_class] = next + bytes;
    return next;
}

// Pushes `frame` on a class's list if the list has room; false, touching nothing, otherwise.
// A push onto an empty list also makes the frame the oldest: a fork-join tree that has all
// of a class's frames in use at its deepest point, as skynet's leaves do, empties the list at
// every group of leaves.
inline bool push_free_frame(frame_lists& lists, void* frame, std::size_t size_class) noexcept {
    if (lists.room[size_class] == 0) [[unlikely]] {
        return false;
    }
    free_frame* const head = lists.heads[size_class];
    free_frame* const pushed = ::new (frame) free_frame{head};
    lists.heads[size_class] = pushed;
    if (head == nullptr) [[unlikely]] {
        lists.tails[size_class] = pushed;
    }
    --lists.room[size_class];
    return true;
}

#if defined(WEFT_DETAIL_INLINE_FRAME_LISTS)
// The thread's lists: empty ones without room or slab, which no pop, carve or push changes,
// until the thread's first slow path arms its own. Initial-exec, as the allocator defines it.
[[gnu::tls_model(
    "initial-exec")]] extern constinit thread_local const frame_lists* this_thread_frame_lists;
#endif

// Returns storage for `bytes` bytes aligned for any frame; throws std::bad_alloc.
inline void* allocate_frame(std::size_t bytes) {
    if (bytes <= frame_granule * frame_size_classes) {
        const std::size_t size_class = (bytes - 1) / frame_granule;
#if defined(WEFT_DETAIL_INLINE_FRAME_LISTS)
        // Writes only once a test passed, which a thread's unarmed lists never let pass.
        auto& lists = const_cast<frame_lists&>(*this_thread_frame_lists);
        if (free_frame* frame = pop_free_frame(lists, size_class)) {
            return frame;
        }
        if (void* frame = carve_frame(lists, size_class)) {
            return frame;
        }
#endif
        return allocate_small_frame(size_class);
    }
    return allocate_large_frame(bytes);
}

// Releases storage obtained from allocate_frame with the same `bytes`.
inline void deallocate_frame(void* frame, std::size_t bytes) noexcept {
    if (bytes <= frame_granule * frame_size_classes) {
        const std::size_t size_class = (bytes - 1) / frame_granule;
#if defined(WEFT_DETAIL_INLINE_FRAME_LISTS)
        if (push_free_frame(const_cast<frame_lists&>(*this_thread_frame_lists), frame,
                            size_class)) {
            return;
        }
#endif
        deallocate_small_frame(frame, size_class);
    } else {
        deallocate_large_frame(frame);
    }
}

} // namespace weft::detail

#undef WEFT_DETAIL_INLINE_FRAME_LISTS
