// The three coroutine-frame allocators weft considered, on the patterns frames follow:
//   new_delete     plain ::operator new / ::operator delete (glibc malloc)
//   tbb_scalable   oneTBB scalable_malloc / scalable_free
//   weft_recycler  weft::detail::allocate_frame / deallocate_frame (per-thread caches by
//                  size class over a shared pool and scalable_malloc;
//                  runtime/task/frame_allocator.cpp)
// Patterns: lifo_burst (10 blocks of 256 bytes freed in reverse, like a gather of 10
// children), deep_chain (1000 blocks of 192 bytes, then freed innermost first, like a deep
// chain of awaits) and cross_thread (one thread allocates 192-byte blocks, a second frees
// them after an SPSC ring, like frames that end on another worker). Each reports
// ns_per_block: wall time per allocation + free. Each block gets one write, as a frame's
// header would, so the allocation cannot be elided.
#include <array>
#include <atomic>
#include <cstddef>
#include <new>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/scalable_allocator.h>
#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/frame_allocator.hpp>

#include "wall_time_per_unit.hpp"

namespace {

struct new_delete {
    static void* allocate(std::size_t bytes) { return ::operator new(bytes); }
    static void deallocate(void* block, std::size_t) noexcept { ::operator delete(block); }
};

struct tbb_scalable {
    static void* allocate(std::size_t bytes) {
        if (void* block = scalable_malloc(bytes)) {
            return block;
        }
        throw std::bad_alloc();
    }
    static void deallocate(void* block, std::size_t) noexcept { scalable_free(block); }
};

struct weft_recycler {
    static void* allocate(std::size_t bytes) { return weft::detail::allocate_frame(bytes); }
    static void deallocate(void* block, std::size_t bytes) noexcept {
        weft::detail::deallocate_frame(block, bytes);
    }
};

template <class Allocator>
void* allocate_and_touch(std::size_t bytes, std::size_t mark) {
    void* block = Allocator::allocate(bytes);
    *static_cast<std::size_t*>(block) = mark;
    benchmark::DoNotOptimize(block);
    return block;
}

constexpr std::size_t burst_blocks = 10;
constexpr std::size_t burst_bytes = 256;

template <class Allocator>
void BM_lifo_burst(benchmark::State& state) {
    std::array<void*, burst_blocks> blocks{};
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        for (std::size_t index = 0; index < burst_blocks; ++index) {
            blocks[index] = allocate_and_touch<Allocator>(burst_bytes, index);
        }
        for (std::size_t index = burst_blocks; index-- > 0;) {
            Allocator::deallocate(blocks[index], burst_bytes);
        }
        benchmark::ClobberMemory();
    }
    timer.report(state, "ns_per_block", burst_blocks);
}

constexpr std::size_t chain_blocks = 1000;
constexpr std::size_t chain_bytes = 192;

template <class Allocator>
void BM_deep_chain(benchmark::State& state) {
    std::vector<void*> blocks(chain_blocks);
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        for (std::size_t index = 0; index < chain_blocks; ++index) {
            blocks[index] = allocate_and_touch<Allocator>(chain_bytes, index);
        }
        for (std::size_t index = chain_blocks; index-- > 0;) {
            Allocator::deallocate(blocks[index], chain_bytes);
        }
        benchmark::ClobberMemory();
    }
    timer.report(state, "ns_per_block", chain_blocks);
}

// A bounded single-producer single-consumer ring of block pointers. The producer owns
// `tail_`, the consumer owns `head_`; each reads the other's index to see how far it may go.
class block_ring {
public:
    bool try_push(void* block) noexcept {
        // relaxed: only the producer writes tail_.
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail - cached_head_ == capacity) {
            // acquire: the consumer has read the slots before head_, so they may be reused.
            cached_head_ = head_.load(std::memory_order_acquire);
            if (tail - cached_head_ == capacity) {
                return false;
            }
        }
        slots_[tail % capacity] = block;
        // release: publishes the slot written above to the consumer.
        tail_.store(tail + 1, std::memory_order_release);
        return true;
    }

    void* try_pop() noexcept {
        // relaxed: only the consumer writes head_.
        const std::size_t head = head_.load(std::memory_order_relaxed);
        if (head == cached_tail_) {
            // acquire: pairs with the producer's release, so the slots before tail_ are
            // written.
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (head == cached_tail_) {
                return nullptr;
            }
        }
        void* block = slots_[head % capacity];
        // release: the slot is read, so the producer may overwrite it.
        head_.store(head + 1, std::memory_order_release);
        return block;
    }

private:
    static constexpr std::size_t capacity = 1024;

    alignas(64) std::atomic<std::size_t> head_{0};
    std::size_t cached_tail_ = 0;
    alignas(64) std::atomic<std::size_t> tail_{0};
    std::size_t cached_head_ = 0;
    alignas(64) std::array<void*, capacity> slots_{};
};

constexpr std::size_t cross_thread_blocks = 1000;
constexpr std::size_t cross_thread_bytes = 192;

// Waiting on the other thread: spin briefly, then yield the core, which matters when the
// two threads share a loaded 2-core machine.
class backoff {
public:
    void wait() noexcept {
        if (spins_ < 64) {
            ++spins_;
            weft::detail::cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }
    void reset() noexcept { spins_ = 0; }

private:
    int spins_ = 0;
};

// The benchmark thread allocates `cross_thread_blocks` blocks per iteration into the ring;
// a second thread frees them as they arrive. After the loop the benchmark waits until
// every block is freed, so the counter covers every allocation and every free.
template <class Allocator>
void BM_cross_thread(benchmark::State& state) {
    block_ring ring;
    // Written by the freer, on a line of their own so the benchmark thread's stack does not
    // share it.
    alignas(64) std::atomic<std::size_t> freed{0};
    std::atomic<bool> stop{false};
    alignas(64) std::size_t pushed = 0;
    std::thread freer([&] {
        std::size_t count = 0;
        backoff idle;
        // relaxed: `stop` is set only after the producer saw every block freed, so the
        // ring is empty by then and nothing else is read through the flag.
        while (!stop.load(std::memory_order_relaxed)) {
            if (void* block = ring.try_pop()) {
                Allocator::deallocate(block, cross_thread_bytes);
                // release: the free above happens before the producer sees the count.
                freed.store(++count, std::memory_order_release);
                idle.reset();
            } else {
                idle.wait();
            }
        }
    });
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        for (std::size_t index = 0; index < cross_thread_blocks; ++index) {
            void* block = allocate_and_touch<Allocator>(cross_thread_bytes, index);
            backoff full;
            while (!ring.try_push(block)) {
                full.wait();
            }
        }
        pushed += cross_thread_blocks;
    }
    backoff draining;
    // acquire: pairs with the freer's release, so the frees counted are done.
    while (freed.load(std::memory_order_acquire) != pushed) {
        draining.wait();
    }
    timer.report(state, "ns_per_block", cross_thread_blocks);
    // relaxed: see the freer's loop; every block pushed has been freed already.
    stop.store(true, std::memory_order_relaxed);
    freer.join();
}

BENCHMARK_TEMPLATE(BM_lifo_burst, new_delete)->UseRealTime();
BENCHMARK_TEMPLATE(BM_lifo_burst, tbb_scalable)->UseRealTime();
BENCHMARK_TEMPLATE(BM_lifo_burst, weft_recycler)->UseRealTime();
BENCHMARK_TEMPLATE(BM_deep_chain, new_delete)->UseRealTime();
BENCHMARK_TEMPLATE(BM_deep_chain, tbb_scalable)->UseRealTime();
BENCHMARK_TEMPLATE(BM_deep_chain, weft_recycler)->UseRealTime();
BENCHMARK_TEMPLATE(BM_cross_thread, new_delete)->UseRealTime();
BENCHMARK_TEMPLATE(BM_cross_thread, tbb_scalable)->UseRealTime();
BENCHMARK_TEMPLATE(BM_cross_thread, weft_recycler)->UseRealTime();

} // namespace
