// Tests the frame allocator (include/weft/detail/frame_allocator.hpp,
// runtime/task/frame_allocator.cpp): alignment and usable size, reuse of a freed block within its
// 16-byte class on the same thread, blocks freed on another thread than the one that allocated
// them, and the shared pool that takes a thread's cache when the thread exits (checked by allocator
// statistics and, for leaks, by LeakSanitizer). Under ThreadSanitizer frames bypass the cache, and
// the tests of reuse give way to one that every frame is freed at once.
#include <weft/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define WEFT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TEST_TSAN 1
#endif
#endif
#ifdef WEFT_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if defined(WEFT_TEST_ASAN) || defined(WEFT_TEST_TSAN)
// From the sanitizer runtimes' allocator interface (GCC ships no header declaring it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace {

using weft::detail::allocate_frame;
using weft::detail::deallocate_frame;

constexpr std::size_t granule = 16;
constexpr std::size_t largest_cached = 1024;

std::uint8_t pattern_byte(std::size_t seed, std::size_t offset) {
    return static_cast<std::uint8_t>((seed * 131 + offset * 7 + 1) & 0xff);
}

void fill(void* block, std::size_t bytes, std::size_t seed) {
    auto* data = static_cast<std::uint8_t*>(block);
    for (std::size_t i = 0; i < bytes; ++i) {
        data[i] = pattern_byte(seed, i);
    }
}

// Returns the offset of the first byte that does not match, or `bytes` if all do.
std::size_t first_mismatch(const void* block, std::size_t bytes, std::size_t seed) {
    const auto* data = static_cast<const std::uint8_t*>(block);
    for (std::size_t i = 0; i < bytes; ++i) {
        if (data[i] != pattern_byte(seed, i)) {
            return i;
        }
    }
    return bytes;
}

bool is_16_byte_aligned(const void* pointer) {
    return reinterpret_cast<std::uintptr_t>(pointer) % 16 == 0;
}

const std::vector<std::size_t> interesting_sizes{1,   15,   16,   63,   64,   65,   127,   128,
                                                 129, 1000, 1023, 1024, 1025, 4096, 100000};

TEST(FrameAllocator, BlocksAre16ByteAlignedAndWritableForTheirFullSize) {
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < interesting_sizes.size(); ++i) {
        void* block = allocate_frame(interesting_sizes[i]);
        ASSERT_NE(block, nullptr);
        EXPECT_TRUE(is_16_byte_aligned(block)) << interesting_sizes[i] << " bytes at " << block;
        fill(block, interesting_sizes[i], i);
        blocks.push_back(block);
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(first_mismatch(blocks[i], interesting_sizes[i], i), interesting_sizes[i])
            << "block of " << interesting_sizes[i] << " bytes overlaps another";
        deallocate_frame(blocks[i], interesting_sizes[i]);
    }
}

TEST(FrameAllocator, RecycledBlocksAreAlignedAndWritableForTheirFullSize) {
    for (int pass = 0; pass < 3; ++pass) {
        for (std::size_t i = 0; i < interesting_sizes.size(); ++i) {
            void* block = allocate_frame(interesting_sizes[i]);
            EXPECT_TRUE(is_16_byte_aligned(block));
            fill(block, interesting_sizes[i], i + 100);
            EXPECT_EQ(first_mismatch(block, interesting_sizes[i], i + 100), interesting_sizes[i]);
            deallocate_frame(block, interesting_sizes[i]);
        }
    }
}

TEST(FrameAllocator, FreedBlockIsReusedByTheNextAllocationOfItsClassOnTheSameThread) {
#ifdef WEFT_TEST_TSAN
    GTEST_SKIP()
        << "under ThreadSanitizer frames bypass the cache (runtime/task/frame_allocator.cpp)";
#endif
    for (std::size_t top = granule; top <= largest_cached; top += granule) {
        const std::size_t bottom = top - granule + 1;
        SCOPED_TRACE(top);
        void* block = allocate_frame(bottom);
        deallocate_frame(block, bottom);

        void* again = allocate_frame(top);

        EXPECT_EQ(again, block) << "sizes " << bottom << " and " << top << " share a class";
        fill(again, top, top);
        EXPECT_EQ(first_mismatch(again, top, top), top);
        deallocate_frame(again, top);
    }
}

#ifdef WEFT_TEST_TSAN
TEST(FrameAllocator, UnderThreadSanitizerEveryFrameIsFreedAtOnce) {
    std::vector<void*> blocks;
    blocks.reserve(interesting_sizes.size());
    const std::size_t live_before = __sanitizer_get_current_allocated_bytes();
    for (std::size_t bytes : interesting_sizes) {
        blocks.push_back(allocate_frame(bytes));
    }
    EXPECT_GT(__sanitizer_get_current_allocated_bytes(), live_before);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        deallocate_frame(blocks[i], interesting_sizes[i]);
    }
    EXPECT_EQ(__sanitizer_get_current_allocated_bytes(), live_before);
}
#endif

TEST(FrameAllocator, CachedBlockIsNotHandedToAnotherClass) {
#ifdef WEFT_TEST_TSAN
    GTEST_SKIP()
        << "under ThreadSanitizer frames bypass the cache (runtime/task/frame_allocator.cpp)";
#endif
    void* small = allocate_frame(64);
    deallocate_frame(small, 64);

    void* next_class = allocate_frame(65);
    void* large = allocate_frame(largest_cached + 1);

    EXPECT_NE(next_class, small);
    EXPECT_NE(large, small);
    EXPECT_EQ(allocate_frame(64), small);
    deallocate_frame(small, 64);
    deallocate_frame(next_class, 65);
    deallocate_frame(large, largest_cached + 1);
}

TEST(FrameAllocator, ManyBlocksOfOneClassBeyondTheCacheLimitAreAllUsable) {
    constexpr std::size_t count = 40'000; // 640 KB of 16-byte blocks: more than one class caches
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<void*> blocks;
        for (std::size_t i = 0; i < count; ++i) {
            blocks.push_back(allocate_frame(granule));
            fill(blocks.back(), granule, i);
        }
        for (std::size_t i = 0; i < count; ++i) {
            ASSERT_EQ(first_mismatch(blocks[i], granule, i), granule) << "block " << i;
            deallocate_frame(blocks[i], granule);
        }
    }
}

#ifdef WEFT_TEST_ASAN
TEST(FrameAllocator, CachedBlocksArePoisonedAndUnpoisonedWhenHandedOut) {
    // 200 bytes fall in the 208-byte class. The first word links the cached block and stays
    // addressable, so LeakSanitizer can follow it; the rest is poisoned.
    void* block = allocate_frame(200);
    deallocate_frame(block, 200);
    EXPECT_FALSE(__asan_address_is_poisoned(block));
    EXPECT_TRUE(__asan_address_is_poisoned(static_cast<char*>(block) + sizeof(void*)));
    EXPECT_TRUE(__asan_address_is_poisoned(static_cast<char*>(block) + 207));

    void* again = allocate_frame(200);

    ASSERT_EQ(again, block);
    EXPECT_EQ(__asan_region_is_poisoned(again, 208), nullptr);
    deallocate_frame(again, 200);
}
#endif

// Hands blocks from one thread to another through a locked queue.
struct handed_block {
    void* block;
    std::size_t bytes;
    std::size_t seed;
};

class block_channel {
public:
    void send(handed_block block) {
        {
            std::lock_guard guard(mutex_);
            blocks_.push_back(block);
        }
        ready_.notify_one();
    }
    handed_block receive() {
        std::unique_lock guard(mutex_);
        ready_.wait(guard, [&] { return !blocks_.empty(); });
        const handed_block block = blocks_.front();
        blocks_.pop_front();
        return block;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<handed_block> blocks_;
};

const std::vector<std::size_t> stress_sizes{8, 64, 100, 200, 500, 1000, 1024, 3000};

TEST(FrameAllocatorStress, BlocksAllocatedOnOneThreadAreFreedOnAnother) {
    constexpr std::size_t blocks = 100'000;
    block_channel channel;

    std::thread producer([&] {
        for (std::size_t i = 0; i < blocks; ++i) {
            const std::size_t bytes = stress_sizes[i % stress_sizes.size()];
            void* block = allocate_frame(bytes);
            fill(block, bytes, i);
            channel.send({block, bytes, i});
        }
    });
    std::size_t corrupted = 0;
    std::size_t misaligned = 0;
    std::thread consumer([&] {
        for (std::size_t i = 0; i < blocks; ++i) {
            const handed_block received = channel.receive();
            if (first_mismatch(received.block, received.bytes, received.seed) != received.bytes) {
                ++corrupted;
            }
            deallocate_frame(received.block, received.bytes);
            // Blocks now in this thread's cache came from the producer: use some of them here.
            if (i % 16 == 0) {
                void* mine = allocate_frame(received.bytes);
                misaligned += is_16_byte_aligned(mine) ? 0 : 1;
                fill(mine, received.bytes, i + 7);
                if (first_mismatch(mine, received.bytes, i + 7) != received.bytes) {
                    ++corrupted;
                }
                deallocate_frame(mine, received.bytes);
            }
        }
    });
    producer.join();
    consumer.join();

    EXPECT_EQ(corrupted, 0u);
    EXPECT_EQ(misaligned, 0u);
}

TEST(FrameAllocatorStress, BlocksCirculatingBetweenTwoThreadsStayIntact) {
    constexpr std::size_t blocks_each_way = 50'000;
    block_channel to_first;
    block_channel to_second;
    std::size_t corrupted[2] = {0, 0};

    auto trade = [&](block_channel& outbox, block_channel& inbox, std::size_t& bad,
                     std::size_t seed_base) {
        for (std::size_t i = 0; i < blocks_each_way; ++i) {
            const std::size_t bytes = stress_sizes[(i * 3) % stress_sizes.size()];
            void* block = allocate_frame(bytes);
            fill(block, bytes, seed_base + i);
            outbox.send({block, bytes, seed_base + i});
            const handed_block received = inbox.receive();
            if (first_mismatch(received.block, received.bytes, received.seed) != received.bytes) {
                ++bad;
            }
            deallocate_frame(received.block, received.bytes);
        }
    };
    std::thread first(trade, std::ref(to_second), std::ref(to_first), std::ref(corrupted[0]), 0);
    std::thread second(trade, std::ref(to_first), std::ref(to_second), std::ref(corrupted[1]),
                       blocks_each_way);
    first.join();
    second.join();

    EXPECT_EQ(corrupted[0], 0u);
    EXPECT_EQ(corrupted[1], 0u);
}

// Fills every class of the calling thread's cache, and some large blocks, then frees them all.
void fill_every_cache_class() {
    std::vector<std::pair<void*, std::size_t>> blocks;
    for (std::size_t bytes = granule; bytes <= largest_cached; bytes += granule) {
        for (int i = 0; i < 300; ++i) {
            blocks.emplace_back(allocate_frame(bytes), bytes);
        }
    }
    for (int i = 0; i < 8; ++i) {
        blocks.emplace_back(allocate_frame(64 * 1024), 64 * 1024);
    }
    for (auto [block, bytes] : blocks) {
        deallocate_frame(block, bytes);
    }
}

// A thread that ends gives its cache to the shared pool, and later threads take their frames
// from there instead of allocating anew: with a sanitizer's allocator the live byte count does
// not grow after the first thread (without one this only runs the path; LeakSanitizer checks
// at exit that nothing the pool or a dead thread held was lost).
TEST(FrameAllocator, ThreadExitHandsItsCacheToTheSharedPool) {
    std::thread(fill_every_cache_class).join();
#if defined(WEFT_TEST_ASAN) || defined(WEFT_TEST_TSAN)
    const std::size_t live_before = __sanitizer_get_current_allocated_bytes();
#endif
    for (int thread_number = 0; thread_number < 4; ++thread_number) {
        std::thread(fill_every_cache_class).join();
    }
#if defined(WEFT_TEST_ASAN) || defined(WEFT_TEST_TSAN)
    const std::size_t live_after = __sanitizer_get_current_allocated_bytes();
    EXPECT_LT(live_after, live_before + 64 * 1024)
        << "bytes allocated anew by threads that could reuse pooled frames: "
        << live_after - live_before;
#endif
}

// A thread that never allocated a frame but frees many still hands them to the pool when it
// ends, so a later thread reuses them instead of carving new memory (counted with a
// sanitizer's allocator; without one this runs the path).
TEST(FrameAllocator, ThreadThatOnlyFreesHandsItsFramesToThePoolAtExit) {
    constexpr std::size_t bytes = 128;
    constexpr int count = 3000;
    std::vector<void*> blocks;
    std::thread([&] {
        for (int i = 0; i < count; ++i) {
            blocks.push_back(allocate_frame(bytes));
        }
    }).join();
    std::thread([&] {
        for (void* block : blocks) {
            deallocate_frame(block, bytes);
        }
    }).join();
#if defined(WEFT_TEST_ASAN) || defined(WEFT_TEST_TSAN)
    const std::size_t live_before = __sanitizer_get_current_allocated_bytes();
#endif
    std::thread([&] {
        for (int i = 0; i < count; ++i) {
            blocks[static_cast<std::size_t>(i)] = allocate_frame(bytes);
            fill(blocks[static_cast<std::size_t>(i)], bytes, static_cast<std::size_t>(i));
        }
        for (int i = 0; i < count; ++i) {
            EXPECT_EQ(first_mismatch(blocks[static_cast<std::size_t>(i)], bytes,
                                     static_cast<std::size_t>(i)),
                      bytes);
            deallocate_frame(blocks[static_cast<std::size_t>(i)], bytes);
        }
    }).join();
#if defined(WEFT_TEST_ASAN) || defined(WEFT_TEST_TSAN)
    const std::size_t live_after = __sanitizer_get_current_allocated_bytes();
    EXPECT_LT(live_after, live_before + 64 * 1024)
        << "bytes allocated anew by a thread that could reuse the freed frames: "
        << live_after - live_before;
#endif
}

// A thread-local object destroyed after the frame cache (it was constructed before the cache)
// frees and allocates frames during thread exit; those go straight to the backing allocator.
struct frees_at_thread_exit {
    ~frees_at_thread_exit() {
        for (auto [block, bytes] : blocks) {
            deallocate_frame(block, bytes);
        }
        void* late = allocate_frame(128);
        fill(late, 128, 5);
        deallocate_frame(late, 128);
    }
    std::vector<std::pair<void*, std::size_t>> blocks;
};

TEST(FrameAllocator, FramesFreedByThreadLocalsAfterTheCacheDiedAreReleased) {
    std::thread([] {
        thread_local frees_at_thread_exit late_owner;
        for (std::size_t bytes : stress_sizes) {
            late_owner.blocks.emplace_back(allocate_frame(bytes), bytes);
        }
    }).join();
    SUCCEED();
}

} // namespace
