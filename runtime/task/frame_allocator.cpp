// The frame allocator: a per-thread cache of freed frames in 16-byte size classes up to
// 1 KiB, over a process-wide pool, over oneTBB's scalable_malloc. A frame freed on another
// thread than the one that allocated it simply joins the freeing thread's cache.
//
// Each thread caches at most 256 KiB per class. Past that it moves half of the class to
// the shared pool in one batch, and an empty class refills from the pool in one batch; a
// thread that ends gives its whole cache to the pool. The pool keeps at most 256 MiB and
// frees the rest. Keeping freed frames, rather than handing them back, matters because a
// burst of a million live tasks otherwise costs a page fault per 4 KiB on the next burst
// (measured in docs/benchmarks.md, with the comparison against new/delete and
// scalable_malloc alone).
//
// Under a sanitizer the backing allocator is malloc, which the sanitizer intercepts (it
// cannot see how scalable_malloc hands memory between threads), and AddressSanitizer
// builds poison cached frames (all but their link word) so a use after free is still
// reported. Under ThreadSanitizer frames bypass the cache altogether: TSan must see every
// frame freed, or a mutex that lived in a recycled frame stays alive in its eyes, with the
// lock order it was used in, and a later frame at the same address reports false
// lock-order inversions.
#include <weft/detail/frame_allocator.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <mutex>
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

#if defined(__SANITIZE_THREAD__)
#define WEFT_THREAD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_THREAD_SANITIZED 1
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

#if defined(WEFT_SANITIZED) || defined(WEFT_FRAME_BACKING_MALLOC)
void* backing_malloc(std::size_t bytes) noexcept {
    return std::malloc(bytes);
}
void backing_free(void* memory) noexcept {
    std::free(memory);
}
#else
void* backing_malloc(std::size_t bytes) noexcept {
    return scalable_malloc(bytes);
}
void backing_free(void* memory) noexcept {
    scalable_free(memory);
}
#endif

#if defined(WEFT_THREAD_SANITIZED)
constexpr bool caching = false;
#else
constexpr bool caching = true;
#endif

constexpr std::size_t granule = 16;
constexpr std::size_t size_classes = 64;
constexpr std::size_t cached_bytes_per_class = 256 * 1024;
constexpr std::size_t pooled_bytes = 256 * 1024 * 1024;
constexpr std::size_t refill_batch = 32;

constexpr std::size_t block_bytes(std::size_t size_class) noexcept {
    return (size_class + 1) * granule;
}

// Blocks a thread caches per class, computed once: a division per free is measurable.
constexpr std::array<std::size_t, size_classes> cache_limit = [] {
    std::array<std::size_t, size_classes> limits{};
    for (std::size_t size_class = 0; size_class < size_classes; ++size_class) {
        limits[size_class] = cached_bytes_per_class / block_bytes(size_class);
    }
    return limits;
}();

// A cached frame's first word links it to the next. Under ASan the rest of it is
// poisoned; the link stays addressable because LeakSanitizer does not follow pointers
// stored in poisoned memory, and pooled frames would look leaked.
struct free_block {
    free_block* next;
};

free_block* next_of(free_block* block) noexcept {
    return block->next;
}

void link(free_block* block, free_block* next) noexcept {
    block->next = next;
}

void poison_behind_link(void* block, std::size_t size_class) noexcept {
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(block) + sizeof(free_block),
                              block_bytes(size_class) - sizeof(free_block));
}

void free_chain(free_block* chain) noexcept;

// Frames that no thread's cache holds, for any thread to take, up to pooled_bytes.
class shared_pool {
public:
    // Moves up to `max` blocks of a class to `out`; returns how many.
    std::size_t take(std::size_t size_class, std::size_t max, free_block*& out) {
        std::lock_guard guard(mutex_);
        std::size_t taken = 0;
        out = nullptr;
        while (taken < max && heads_[size_class] != nullptr) {
            free_block* block = heads_[size_class];
            heads_[size_class] = next_of(block);
            link(block, out);
            out = block;
            ++taken;
        }
        bytes_ -= taken * block_bytes(size_class);
        return taken;
    }

    // Keeps what fits of a chain of blocks; frees the rest.
    void give(std::size_t size_class, free_block* chain) {
        free_block* overflow = nullptr;
        {
            std::lock_guard guard(mutex_);
            while (chain != nullptr) {
                free_block* next = next_of(chain);
                if (bytes_ + block_bytes(size_class) <= pooled_bytes) {
                    link(chain, heads_[size_class]);
                    heads_[size_class] = chain;
                    bytes_ += block_bytes(size_class);
                } else {
                    link(chain, overflow);
                    overflow = chain;
                }
                chain = next;
            }
        }
        free_chain(overflow);
    }

private:
    std::mutex mutex_;
    std::array<free_block*, size_classes> heads_{};
    std::size_t bytes_ = 0;
};

// Never destroyed: threads may free frames while static destructors run.
shared_pool& pool() {
    static shared_pool* const instance = new shared_pool;
    return *instance;
}

void* backing_allocate(std::size_t bytes) {
    if (void* memory = backing_malloc(bytes)) {
        return memory;
    }
    throw std::bad_alloc();
}

void free_chain(free_block* chain) noexcept {
    while (chain != nullptr) {
        free_block* next = next_of(chain);
        backing_free(chain);
        chain = next;
    }
}

class frame_cache {
public:
    ~frame_cache() {
        alive = false;
        for (std::size_t size_class = 0; size_class < size_classes; ++size_class) {
            pool().give(size_class, std::exchange(heads_[size_class], nullptr));
            counts_[size_class] = 0;
        }
    }

    void* take(std::size_t size_class) {
        if (heads_[size_class] == nullptr) {
            counts_[size_class] = pool().take(size_class, refill_batch, heads_[size_class]);
            if (heads_[size_class] == nullptr) {
                return nullptr;
            }
        }
        free_block* block = heads_[size_class];
        heads_[size_class] = next_of(block);
        --counts_[size_class];
        ASAN_UNPOISON_MEMORY_REGION(block, block_bytes(size_class));
        return block;
    }

    void give(void* memory, std::size_t size_class) {
        if (counts_[size_class] >= cache_limit[size_class]) {
            move_half_to_pool(size_class);
        }
        poison_behind_link(memory, size_class);
        auto* block = static_cast<free_block*>(memory);
        link(block, heads_[size_class]);
        heads_[size_class] = block;
        ++counts_[size_class];
    }

    // Trivially destructible, so still readable while other thread-locals are destroyed.
    static thread_local bool alive;

private:
    void move_half_to_pool(std::size_t size_class) {
        const std::size_t moving = counts_[size_class] / 2;
        free_block* first = heads_[size_class];
        free_block* last = first;
        for (std::size_t i = 1; i < moving; ++i) {
            last = next_of(last);
        }
        heads_[size_class] = next_of(last);
        link(last, nullptr);
        counts_[size_class] -= moving;
        pool().give(size_class, first);
    }

    std::array<free_block*, size_classes> heads_{};
    std::array<std::size_t, size_classes> counts_{};
};

thread_local bool frame_cache::alive = true;
thread_local frame_cache cache;

std::size_t size_class_of(std::size_t bytes) noexcept {
    return (bytes - 1) / granule;
}

} // namespace

void* allocate_frame(std::size_t bytes) {
    const std::size_t size_class = size_class_of(bytes);
    if (caching && size_class < size_classes) {
        if (frame_cache::alive) {
            if (void* memory = cache.take(size_class)) {
                return memory;
            }
        }
        return backing_allocate(block_bytes(size_class));
    }
    return backing_allocate(bytes);
}

void deallocate_frame(void* frame, std::size_t bytes) noexcept {
    const std::size_t size_class = size_class_of(bytes);
    if (caching && size_class < size_classes && frame_cache::alive) {
        cache.give(frame, size_class);
        return;
    }
    backing_free(frame);
}

} // namespace weft::detail
