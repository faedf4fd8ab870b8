// The frame allocator: a per-thread cache of freed frames in 64-byte size classes up to
// 1 KiB, over oneTBB's scalable_malloc. A frame freed on another thread than the one that
// allocated it simply joins the freeing thread's cache. Each class caches at most 256 KiB
// per thread; the rest goes back to the backing allocator. docs/benchmarks.md compares
// this with plain new/delete and with scalable_malloc alone.
#include <weft/detail/frame_allocator.hpp>

#include <array>
#include <cstdint>
#include <new>
#include <utility>

#include <tbb/scalable_allocator.h>

namespace weft::detail {
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t size_classes = 16;
constexpr std::size_t cached_bytes_per_class = 256 * 1024;

void* backing_allocate(std::size_t bytes) {
    if (void* memory = scalable_malloc(bytes)) {
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
                scalable_free(std::exchange(head, head->next));
            }
        }
    }

    void* take(std::size_t size_class) noexcept {
        free_block* block = heads_[size_class];
        if (block == nullptr) {
            return nullptr;
        }
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
    scalable_free(frame);
}

} // namespace weft::detail
