// arrival_queue: the lock-free queue of the tasks that ended while weft::wait or
// weft::as_completed watched them, sharing one word with the watcher's claim to be resumed,
// so an arrival and a canceller race on that word and exactly one resumes the watcher.
// arrival_node is the waiter each watched task carries. The argument is in
// docs/architecture.md ("wait and as_completed").
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>

namespace weft::detail {

// A waiter on one watched task's list. When the task ends it may become an arrival.
struct arrival_node : waiter_node {
    arrival_node* next_arrival = nullptr; // queued: the previous arrival; taken: the next one
    std::size_t index = 0;                // the task's position in the input
};

// The arrivals of one wait and the claim to resume its consumer (the awaiting coroutine),
// in one word:
//
//   0         nothing queued; the consumer is not suspending
//   arming    the consumer is setting up a suspension; nobody may resume it yet
//   armed     the consumer is suspended; whoever clears the flag resumes it
//   node      the newest queued arrival (linked to older ones); no flag
//
// A push replaces the flags with a node: the arrival that finds `armed` resumes the
// consumer, one that finds `arming` makes its arm() fail, so it does not suspend. A
// canceller clears a flag instead (withdraw()). Only the consumer sets flags, and only
// while no arrival is queued; only it takes arrivals.
class arrival_queue {
public:
    // `arming`: the queue belongs to a consumer that suspends once, already setting up.
    explicit arrival_queue(bool arming) noexcept : word_(arming ? arming_flag : 0) {}
    arrival_queue(const arrival_queue&) = delete;
    arrival_queue& operator=(const arrival_queue&) = delete;

    // The consumer: whom a canceller resumes, and on which runtime; the arrival that finds
    // it suspended schedules `wake` instead, which resumes it (the consumer itself unless
    // given).
    void set_consumer(std::coroutine_handle<> consumer, runtime& home,
                      std::coroutine_handle<> wake = {}) noexcept {
        consumer_ = consumer;
        home_ = &home;
        wake_ = wake ? wake : consumer;
    }

    // The consumer: starts setting up a suspension. False if an arrival is queued.
    bool begin() noexcept {
        std::uintptr_t idle = 0;
        // relaxed: `arming` publishes nothing (an arrival that clears it resumes nobody), and
        // a queued arrival found instead is read by take_all(), which acquires.
        return word_.compare_exchange_strong(idle, arming_flag, std::memory_order_relaxed);
    }

    // The consumer: finishes setting up. True if it suspends; false if an arrival or a
    // canceller cleared `arming` meanwhile.
    bool arm() noexcept {
        std::uintptr_t expected = arming_flag;
        // release: whoever clears `armed` reads consumer_ and home_ to resume the consumer.
        // relaxed on failure: the consumer does not suspend, and reads an arrival through
        // take_all() or a cancellation through leave_target(), both of which acquire.
        return word_.compare_exchange_strong(expected, armed_flag, std::memory_order_release,
                                             std::memory_order_relaxed);
    }

    // The consumer: gives up a suspension it began (a cancellation was pending).
    void abandon() noexcept {
        std::uintptr_t expected = arming_flag;
        // relaxed: nothing is published; on failure an arrival has already cleared the flag.
        word_.compare_exchange_strong(expected, 0, std::memory_order_relaxed);
    }

    // Any thread, once per node: queues the arrival; resumes the consumer if it was
    // suspended. Touches neither the queue nor the node after resuming the consumer.
    void push(arrival_node& node) noexcept {
        // relaxed: a first guess for the CAS, which decides.
        std::uintptr_t seen = word_.load(std::memory_order_relaxed);
        do {
            node.next_arrival = queued(seen);
            // release: the consumer that takes the node sees its link and index. acquire:
            // when it finds `armed`, the consumer_ and home_ stored before arm() are visible.
            // relaxed on failure: the next attempt links the node again.
        } while (!word_.compare_exchange_weak(seen, reinterpret_cast<std::uintptr_t>(&node),
                                              std::memory_order_acq_rel,
                                              std::memory_order_relaxed));
        if (seen == armed_flag) {
            schedule(*home_, wake_);
        }
    }

    // A canceller, holding the consumer's cancel target: takes the claim back if the
    // consumer is suspended (withdrawn: the canceller resumes it) or arming (it sees the
    // flag gone, does not suspend, and its suspension ends in cancelled_error: reported as
    // forwarded, which resumes nobody). too_late if an arrival cleared the flag first.
    interruption withdraw() noexcept {
        // relaxed: a first guess for the CAS, which decides.
        std::uintptr_t seen = word_.load(std::memory_order_relaxed);
        while (seen == armed_flag || seen == arming_flag) {
            // acquire: pairs with arm()'s release, so consumer_ and home_ are visible.
            if (word_.compare_exchange_weak(seen, 0, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
                if (seen == armed_flag) {
                    return {interruption::outcome::withdrawn, consumer_, home_};
                }
                return {interruption::outcome::forwarded};
            }
        }
        return {};
    }

    // The consumer: whether an arrival is queued. Only called while it sets no flag.
    bool empty() const noexcept {
        // relaxed: only the consumer takes arrivals, so one seen here is still there for
        // take_all(), which acquires.
        return word_.load(std::memory_order_relaxed) == 0;
    }

    // The consumer, while it sets no flag: takes every queued arrival, oldest first.
    arrival_node* take_all() noexcept {
        // acquire: the pushes are RMWs on this word, one release sequence, so the links and
        // indices of every node taken are visible.
        arrival_node* newest = queued(word_.exchange(0, std::memory_order_acquire));
        arrival_node* oldest = nullptr;
        while (newest != nullptr) {
            arrival_node* older = newest->next_arrival;
            newest->next_arrival = oldest;
            oldest = newest;
            newest = older;
        }
        return oldest;
    }

private:
    static constexpr std::uintptr_t arming_flag = 1;
    static constexpr std::uintptr_t armed_flag = 2;
    static constexpr std::uintptr_t flags = arming_flag | armed_flag;
    static_assert(alignof(arrival_node) > flags);

    static arrival_node* queued(std::uintptr_t word) noexcept {
        return reinterpret_cast<arrival_node*>(word & ~flags);
    }

    std::atomic<std::uintptr_t> word_;
    std::coroutine_handle<> consumer_;
    std::coroutine_handle<> wake_;
    runtime* home_ = nullptr;
};

} // namespace weft::detail
