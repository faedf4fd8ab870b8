// The frame allocator: a per-thread cache of freed frames in 64-byte size classes up to
// 1 KiB, over oneTBB's scalable_malloc. A frame freed on another thread than the one that
// allocated it simply joins the freeing thread's cache. Each class caches at most 256 KiB
// per thread; the rest goes back to the backing allocator. docs/benchmarks.md compares
// this with plain new/delete and with scalable_malloc alone.
//
// Under a sanitizer the backing allocator is malloc, which the sanitizer intercepts (it
// cannot see how scalable_malloc hands memory between threads), and AddressSanitizer
// builds poison cached frames so a use after free is still reported.
#include <weft/detail/frame_allocator.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include <tbb/scalable_allocator.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEFT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WEFT_SANITIZED 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(address, size) ((void)(address), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(address, size) ((void)(address), (void)(size))
#endif

namespace weft::detail {
namespace {

#ifdef WEFT_SANITIZED
void* backing_malloc(std::size_t bytes) noexcept { return std::malloc(bytes); }
void backing_free(void* memory) noexcept { std::free(memory); }
#else
void* backing_malloc(std::size_t bytes) noexcept { return scalable_malloc(bytes); }
void backing_free(void* memory) noexcept { scalable_free(memory); }
#endif

constexpr std::size_t granule = 64;
constexpr std::size_t size_classes = 16;
constexpr std::size_t cached_bytes_per_class = 256 * 1024;

void* backing_allocate(std::size_t bytes) {
    if (void* memory = backing_malloc(bytes)) {
        return memory;
    }
    throw std::bad_alloc();
}

class frame_cache {
public:
    ~frame_cache() {
        alive = false;
        for (free_block*& head : heads_) {
            while (head != nullptr) {
                free_block* block = head;
                ASAN_UNPOISON_MEMORY_REGION(block, sizeof(free_block));
                head = block->next;
                backing_free(block);
            }
        }
    }

    void* take(std::size_t size_class) noexcept {
        free_block* block = heads_[size_class];
        if (block == nullptr) {
            return nullptr;
        }
        ASAN_UNPOISON_MEMORY_REGION(block, (size_class + 1) * granule);
        heads_[size_class] = block->next;
        --counts_[size_class];
        return block;
    }

    bool give(void* memory, std::size_t size_class) noexcept {
        if (counts_[size_class] >= cached_bytes_per_class / ((size_class + 1) * granule)) {
            return false;
        }
        heads_[size_class] = ::new (memory) free_block{heads_[size_class]};
        ++counts_[size_class];
        ASAN_POISON_MEMORY_REGION(memory, (size_class + 1) * granule);
        return true;
    }

    // Trivially destructible, so still readable while other thread-locals are destroyed.
    static thread_local bool alive;

private:
    struct free_block {
        free_block* next;
    };
    std::array<free_block*, size_classes> heads_{};
    std::array<std::uint32_t, size_classes> counts_{};
};

thread_local bool frame_cache::alive = true;
thread_local frame_cache cache;

std::size_t size_class_of(std::size_t bytes) noexcept { return (bytes - 1) / granule; }

} // namespace

void* allocate_frame(std::size_t bytes) {
    const std::size_t size_class = size_class_of(bytes);
    if (size_class < size_classes) {
        if (frame_cache::alive) {
            if (void* memory = cache.take(size_class)) {
                return memory;
            }
        }
        return backing_allocate((size_class + 1) * granule);
    }
    return backing_allocate(bytes);
}

void deallocate_frame(void* frame, std::size_t bytes) noexcept {
    const std::size_t size_class = size_class_of(bytes);
    if (size_class < size_classes && frame_cache::alive && cache.give(frame, size_class)) {
        return;
    }
    backing_free(frame);
}

} // namespace weft::detail
