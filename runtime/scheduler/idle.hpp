// Which workers are awake, which of them are searching for work, and which sleep.
//
// Protocol (after Tokio's idle.rs). A worker that runs out of local work becomes a
// searcher if fewer than half the awake workers, rounded up, already search, and
// steals; a searcher that finds work stops searching and, if it was the last searcher,
// wakes a sleeper to keep one looking. A producer that queued work wakes a sleeper only
// when nobody is searching and somebody sleeps; the woken worker starts as a searcher.
//
// No lost wake-up: a worker going to sleep lists itself and lowers the awake count with a
// seq_cst read-modify-write, then re-reads every queue with seq_cst loads; a producer
// from outside the runtime stores the queue length with seq_cst, then reads the counts
// with a seq_cst load. In the single order of those operations one of the two sees the
// other: the sleeper finds the work, or the producer finds the sleeper. A worker pushing
// to its own queue publishes with release only; if its wake-up is missed the item is not
// lost, as the pushing worker itself will run it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace weft::detail {

class idle {
public:
    explicit idle(std::size_t workers);

    bool try_begin_searching() noexcept;
    // True if the caller was the last searcher.
    bool end_searching() noexcept;

    // Lists worker `id` as asleep. True if no worker is awake any more.
    bool enter_sleep(std::size_t id, bool searching);
    // Takes `id` off the sleepers' list after a late re-check found work. False if a
    // producer already claimed it, in which case its unpark is on the way.
    bool leave_sleep(std::size_t id);
    // For a producer, before claim_sleeper: whether it may find a sleeper to wake, false in
    // the common case that a searcher exists or everyone is awake. Inline, as it runs after
    // every push a worker makes while it has peers.
    bool wants_a_wake() const noexcept {
        // seq_cst: claim_sleeper's first load, moved here; the load half of the producer's
        // store->load check.
        return should_wake(state_.load(std::memory_order_seq_cst));
    }
    // For a producer: picks a sleeper to wake and counts it awake and searching, or none
    // if a searcher exists or nobody sleeps.
    std::optional<std::size_t> claim_sleeper();
    // Takes sleeper `id` off the list and counts it awake and searching, as claim_sleeper
    // does; false if it is not asleep. The caller then unparks it.
    bool claim(std::size_t id);

private:
    // Removes `id` from the sleepers and adds `counted_as` to the counts; false if absent.
    bool take_off_list(std::size_t id, std::uint64_t counted_as);

    static constexpr std::uint64_t one_awake = 1;
    static constexpr std::uint64_t one_searching = std::uint64_t{1} << 32;
    static std::uint32_t awake(std::uint64_t state) noexcept {
        return static_cast<std::uint32_t>(state);
    }
    static std::uint32_t searching(std::uint64_t state) noexcept {
        return static_cast<std::uint32_t>(state >> 32);
    }
    bool should_wake(std::uint64_t state) const noexcept {
        return searching(state) == 0 && awake(state) < workers_;
    }

    const std::size_t workers_;
    std::atomic<std::uint64_t> state_;
    std::mutex mutex_;
    std::vector<std::size_t> sleepers_;
};

} // namespace weft::detail
