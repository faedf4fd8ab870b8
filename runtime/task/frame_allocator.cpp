// The frame allocator: a per-thread free list of frames in 16-byte size classes up to 1 KiB,
// refilled from slabs the thread carves itself, or from a process-wide pool. A frame freed on
// another thread than the one that allocated it simply joins the freeing thread's list.
//
// The fast paths are a handful of instructions: take the head of a class's list, or push onto
// it while the class holds fewer than 256 KiB (pop_free_frame and push_free_frame, in the
// header, where g++'s builds inline them). The thread's state is trivially constructible
// and destructible, so it needs no guard; the fast paths reach it through a pointer that the
// thread's first slow path sets. That path also creates a separate thread_local which hands
// the thread's frames to the pool when the thread ends and leaves the lists empty and full,
// so every later call takes the slow path, which then goes to the pool (frees) or the
// backing allocator (allocations).
//
// An empty list takes a frame from the thread's current slab of that class (64 KiB, cut from
// a 1 MiB arena of the backing allocator, carved by a pointer bump), and, once that slab is used
// up, a whole chain from the pool before it carves a new slab. A full list moves to the pool
// whole, as one chain (the list knows its oldest block and its length), and a chain comes back
// out whole: both in constant time, whatever the length. Slab frames never go back to the
// backing allocator: frame memory is kept at its high-water mark for reuse, as a slab allocator
// keeps its spans. That is the point: handed back, a burst of a million tasks costs a page fault
// per 4 KiB on the next burst, and a frame from oneTBB's scalable_malloc costs ~100 instructions
// where the list costs ~5 (docs/benchmarks.md). Frames above 1 KiB go to the backing allocator
// directly.
//
// Under a sanitizer the backing allocator is malloc, which the sanitizer intercepts (it
// cannot see how scalable_malloc hands memory between threads), and AddressSanitizer
// builds poison free frames (all but their link word) so a use after free is still
// reported. Under ThreadSanitizer frames bypass the lists altogether: TSan must see every
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

constexpr std::size_t granule = frame_granule;
constexpr std::size_t size_classes = frame_size_classes;
constexpr std::size_t cached_bytes_per_class = 256 * 1024;
constexpr std::size_t slab_bytes = 64 * 1024;
// Slabs come sixteen at a time from one backing allocation: the backing allocator's own
// header and rounding are paid per megabyte, not per slab (per slab they cost a million
// sleeping tasks 20 MiB of resident memory, docs/benchmarks.md).
constexpr std::size_t slabs_per_arena = 16;
constexpr std::size_t block_bytes(std::size_t size_class) noexcept {
    return (size_class + 1) * granule;
}

// Blocks a thread's list holds per class, computed once: a division per free is measurable.
constexpr std::array<std::uint32_t, size_classes> list_limit = [] {
    std::array<std::uint32_t, size_classes> limits{};
    for (std::size_t size_class = 0; size_class < size_classes; ++size_class) {
        limits[size_class] =
            static_cast<std::uint32_t>(cached_bytes_per_class / block_bytes(size_class));
    }
    return limits;
}();

// A free frame's first word links it to the next (free_frame, frame_allocator.hpp). Under
// ASan the rest of it is poisoned; the link stays addressable because LeakSanitizer does not
// follow pointers stored in poisoned memory, and pooled frames would look leaked.
using free_block = free_frame;

void poison_behind_link(void* block, std::size_t size_class) noexcept {
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(block) + sizeof(free_block),
                              block_bytes(size_class) - sizeof(free_block));
}

void* backing_allocate(std::size_t bytes) {
    if (void* memory = backing_malloc(bytes)) {
        return memory;
    }
    throw std::bad_alloc();
}

// An arena's first granule links it to the arena allocated before it, so every slab stays
// reachable from the pool (LeakSanitizer sees no leak) and the slabs start aligned.
struct arena_link {
    alignas(granule) arena_link* previous;
};

// A chain of free blocks that moves as one: a thread's whole list, the rest of a slab, or one
// block. In the pool the chain's head keeps its last block in its second word, and the last
// keeps the chain's length there unless it is the head (a chain of one), so a chain goes in and
// out of the pool touching two blocks, whatever its length: a walk over thousands of cold
// frames is a cache miss per frame, one after the other (docs/benchmarks.md). The last block's
// link word chains it to the next chain in the pool.
struct free_chain {
    free_block* first = nullptr;
    free_block* last = nullptr;
    std::uint32_t count = 0;
};

// The pool's second word of a block, which blocks outside the pool leave poisoned under ASan
// (every block has two words: a granule is 16 bytes).
std::uintptr_t& second_word(free_block* block) noexcept {
    void* word = reinterpret_cast<char*>(block) + sizeof(free_block);
    ASAN_UNPOISON_MEMORY_REGION(word, sizeof(std::uintptr_t));
    return *static_cast<std::uintptr_t*>(word);
}
static_assert(granule >= sizeof(free_block) + sizeof(std::uintptr_t));

// Frames that no thread's list holds, for any thread to take, and the slabs ever carved.
class shared_pool {
public:
    // Detaches the most recently given chain of a class; an empty chain if there is none.
    free_chain take(std::size_t size_class) {
        std::lock_guard guard(mutex_);
        free_chain chain;
        chain.first = heads_[size_class];
        if (chain.first == nullptr) {
            return chain;
        }
        chain.last = reinterpret_cast<free_block*>(second_word(chain.first));
        chain.count =
            chain.last == chain.first ? 1 : static_cast<std::uint32_t>(second_word(chain.last));
        heads_[size_class] = chain.last->next;
        chain.last->next = nullptr;
        poison_behind_link(chain.first, size_class);
        poison_behind_link(chain.last, size_class);
        return chain;
    }

    // Takes a chain (first null: nothing), in constant time.
    void give(std::size_t size_class, free_chain chain) {
        if (chain.first == nullptr) {
            return;
        }
        second_word(chain.first) = reinterpret_cast<std::uintptr_t>(chain.last);
        if (chain.last != chain.first) {
            second_word(chain.last) = chain.count;
        }
        std::lock_guard guard(mutex_);
        chain.last->next = heads_[size_class];
        heads_[size_class] = chain.first;
    }

    // A new slab of slab_bytes, from the current arena or a new one.
    char* carve_slab() {
        std::lock_guard guard(mutex_);
        if (static_cast<std::size_t>(arena_end_ - arena_next_) < slab_bytes) {
            auto* arena = static_cast<arena_link*>(
                backing_allocate(sizeof(arena_link) + slabs_per_arena * slab_bytes));
            arena->previous = arenas_;
            arenas_ = arena;
            arena_next_ = reinterpret_cast<char*>(arena) + sizeof(arena_link);
            arena_end_ = arena_next_ + slabs_per_arena * slab_bytes;
        }
        char* slab = arena_next_;
        arena_next_ += slab_bytes;
        return slab;
    }

private:
    std::mutex mutex_;
    std::array<free_block*, size_classes> heads_{};
    arena_link* arenas_ = nullptr;
    char* arena_next_ = nullptr;
    char* arena_end_ = nullptr;
};

// Never destroyed: threads may free frames while static destructors run.
shared_pool& pool() {
    static shared_pool* const instance = new shared_pool;
    return *instance;
}

// One thread's lists and slabs. Trivially constructible and destructible (see the top). A
// list's room (frame_lists) is zero until the thread's first slow path arms the hand-back (so
// a thread that only frees still arms it) and again once the thread ends.
struct thread_frames : frame_lists {
    bool registered; // the thread-exit hand-back is armed
    bool closed;     // the thread is ending: its lists are no longer used
};

constinit thread_local thread_frames frames{};
// Lists that are empty and without room, for every thread to read and none to write: the
// fast paths' view of a thread's lists until its first slow path arms the hand-back.
constinit const thread_frames unarmed_frames{};

} // namespace

// What the fast paths read, here and inline in g++'s builds (frame_allocator.hpp):
// `unarmed_frames`, then `frames` once armed, so they need no test of their own.
// Initial-exec (docs/architecture.md): as position-independent code the library would reach
// `frames` as if through __tls_get_addr, and the fast paths would save the registers a call
// clobbers. A pointer, not the lists themselves: a library's initial-exec variables take the
// static TLS block, which has only a few hundred bytes to spare for one loaded by dlopen.
[[gnu::tls_model(
    "initial-exec")]] constinit thread_local const frame_lists* this_thread_frame_lists =
    &unarmed_frames;

namespace {

// The thread's lists with the rest of its state: `frames` or `unarmed_frames`.
thread_frames& armed_frames() noexcept {
    // Written only once a test passed, which `unarmed_frames` never lets happen.
    return const_cast<thread_frames&>(static_cast<const thread_frames&>(*this_thread_frame_lists));
}

// Bytes left in the class's current slab; 0 before the first (both ends null).
std::size_t slab_room(std::size_t size_class) noexcept {
    return static_cast<std::size_t>(frames.slab_end[size_class] - frames.slab_next[size_class]);
}

// Carves what is left of the thread's slabs into blocks for the pool.
void give_slab_rests_to_pool() {
    for (std::size_t size_class = 0; size_class < size_classes; ++size_class) {
        free_chain rest;
        char*& next = frames.slab_next[size_class];
        while (slab_room(size_class) >= block_bytes(size_class)) {
            auto* block = reinterpret_cast<free_block*>(next);
            block->next = rest.first;
            rest.first = block;
            if (rest.last == nullptr) {
                rest.last = block;
            }
            ++rest.count;
            poison_behind_link(block, size_class);
            next += block_bytes(size_class);
        }
        pool().give(size_class, rest);
    }
}

// Empties the thread's list of a class, returning what it held (its room is the caller's).
free_chain detach_list(std::size_t size_class) noexcept {
    free_block* const first = std::exchange(frames.heads[size_class], nullptr);
    if (first == nullptr) {
        return {};
    }
    return {first, frames.tails[size_class], list_limit[size_class] - frames.room[size_class]};
}

// Hands the thread's frames to the pool when the thread ends, and closes its lists: empty
// (allocations miss) and full (frees miss), so both take the slow path from then on.
struct thread_exit_hand_back {
    ~thread_exit_hand_back() {
        frames.closed = true;
        give_slab_rests_to_pool();
        for (std::size_t size_class = 0; size_class < size_classes; ++size_class) {
            pool().give(size_class, detach_list(size_class));
            frames.room[size_class] = 0;
        }
    }
};

void arm_thread_exit_hand_back() {
    static thread_local thread_exit_hand_back hand_back;
    (void)hand_back;
    frames.registered = true;
    frames.room = list_limit;
    this_thread_frame_lists = &frames;
}

// An empty list and a used-up slab, or no lists at all (ThreadSanitizer).
[[gnu::noinline]] void* allocate_slow(std::size_t size_class) {
    const std::size_t block_size = block_bytes(size_class);
    if (!caching) {
        return backing_allocate(block_size);
    }
    if (!frames.registered) {
        arm_thread_exit_hand_back();
    }
    if (frames.closed) {
        return backing_allocate(block_size);
    }
    char*& next = frames.slab_next[size_class];
    if (slab_room(size_class) < block_size) {
        const free_chain taken = pool().take(size_class);
        if (taken.first != nullptr) {
            // The rest of the chain becomes the list, which was empty. A chain is never longer
            // than a full list, so the room stays positive.
            frames.heads[size_class] = taken.first->next;
            frames.tails[size_class] = taken.last;
            frames.room[size_class] -= taken.count - 1;
            ASAN_UNPOISON_MEMORY_REGION(taken.first, block_size);
            return taken.first;
        }
        next = pool().carve_slab();
        frames.slab_end[size_class] = next + slab_bytes;
    }
    void* block = next;
    next += block_size;
    return block;
}

// A full list, lists not yet armed or closed, or no lists at all (ThreadSanitizer).
[[gnu::noinline]] void deallocate_slow(void* frame, std::size_t size_class) noexcept {
    if (!caching) {
        backing_free(frame);
        return;
    }
    auto* block = static_cast<free_block*>(frame);
    poison_behind_link(block, size_class);
    if (!frames.registered) {
        arm_thread_exit_hand_back();
    }
    if (frames.closed) {
        block->next = nullptr;
        pool().give(size_class, {block, block, 1});
        return;
    }
    if (frames.room[size_class] == 0) {
        // The list is full: all of it goes to the pool at once, and `block` starts anew.
        pool().give(size_class, detach_list(size_class));
        frames.room[size_class] = list_limit[size_class];
    }
    push_free_frame(frames, block, size_class); // the room is positive now: it pushes
}

} // namespace

void* allocate_small_frame(std::size_t size_class) {
    thread_frames& mine = armed_frames();
    if (caching) {
        if (free_block* block = pop_free_frame(mine, size_class)) [[likely]] {
            ASAN_UNPOISON_MEMORY_REGION(block, block_bytes(size_class));
            return block;
        }
        if (void* block = carve_frame(mine, size_class)) [[likely]] {
            return block;
        }
    }
    return allocate_slow(size_class);
}

void deallocate_small_frame(void* frame, std::size_t size_class) noexcept {
    if (caching && push_free_frame(armed_frames(), frame, size_class)) [[likely]] {
        poison_behind_link(frame, size_class);
        return;
    }
    deallocate_slow(frame, size_class);
}

void* allocate_large_frame(std::size_t bytes) {
    return backing_allocate(bytes);
}

void deallocate_large_frame(void* frame) noexcept {
    backing_free(frame);
}

} // namespace weft::detail
