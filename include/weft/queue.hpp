// weft::queue<T>, weft::priority_queue<T> and weft::lifo_queue<T>: hand items from tasks to
// tasks (asyncio.Queue, PriorityQueue, LifoQueue).
//
//     weft::queue<job> jobs(100);            // at most 100 items; 0 (the default): unbounded
//     co_await jobs.put(j);                  // suspends while full
//     job next = co_await jobs.get();        // suspends while empty
//     jobs.task_done();                      // after processing what get() returned
//     co_await jobs.join();                  // until every item put was marked done
//
// Items come out first in, first out from a queue, newest first from a lifo_queue, and
// least first (under Compare, std::less by default; equal items in no set order) from a
// priority_queue.
//
// Tasks waiting to put or get are served first in, first out: a put hands its item straight
// to the longest waiting getter, and a get lets the longest waiting putter in (its item goes
// in when it runs). Until a served task runs, what it was handed takes up room: full()
// counts it; size() counts the items a get could take now. Any thread may use a queue, a
// thread outside any runtime included, through the try_ forms. A waiting task that is
// cancelled, even after it was served but before it ran, ends with cancelled_error having
// put or got nothing: an item handed to it goes to the next getter or back to the front of
// the queue, a slot to the next putter.
//
// shutdown() (Python 3.13) lets getters drain the items left before they too get
// queue_shut_down. T needs a noexcept move constructor. A queue must outlive its waiters; it
// is neither copied nor moved.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <weft/detail/queue_awaiters.hpp>
#include <weft/detail/queue_order.hpp>
#include <weft/detail/queue_state.hpp>

namespace weft {

// The members the three queues share; Order is the store that decides which item comes
// out next. Use queue, priority_queue or lifo_queue below.
template <class T, class Order>
class basic_queue {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "weft queues move items inside a critical section that must not fail "
                  "halfway: the item type needs a noexcept move constructor");

public:
    using putter = detail::queue_putter<T, Order>;
    using getter = detail::queue_getter<T, Order>;

    // At most `maxsize` items; 0: unbounded.
    explicit basic_queue(std::size_t maxsize) noexcept : state_(maxsize) {}
    basic_queue(const basic_queue&) = delete;
    basic_queue& operator=(const basic_queue&) = delete;

    // co_await q.put(item): suspends while the queue is full, then puts the item (or hands
    // it to the longest waiting getter). Throws queue_shut_down after shutdown().
    putter put(T item) noexcept { return putter(state_, std::move(item)); }
    // co_await q.get(): suspends while the queue is empty, then returns the next item.
    // Throws queue_shut_down once the queue is shut down and empty.
    getter get() noexcept { return getter(state_); }

    // Puts without suspending: false, leaving `item` untouched, when full. Throws
    // queue_shut_down after shutdown().
    bool try_put(T&& item) { return state_.offer(item); }
    bool try_put(const T& item) {
        T copy = item; // copied outside the lock: only noexcept moves happen inside
        return state_.offer(copy);
    }
    // Gets without suspending: empty when the queue is. Throws queue_shut_down once the
    // queue is shut down and empty.
    std::optional<T> try_get() { return state_.try_get(); }

    // Marks one item that get() returned as processed. Throws invalid_state_error when
    // called more often than items were put.
    void task_done() { state_.task_done(); }
    // co_await q.join(): returns once every item put was marked done.
    detail::queue_join::awaiter join() noexcept { return state_.join(); }

    // Refuses new items: put, try_put and waiting putters fail with queue_shut_down; get and
    // try_get go on returning the items left, then fail with it, and waiting getters wake
    // with it. `immediate` also drops the items left, counting each as done for join().
    void shutdown(bool immediate = false) noexcept { state_.shutdown(immediate); }

    // Items a get could take now.
    std::size_t size() noexcept { return state_.size(); }
    bool empty() noexcept { return size() == 0; }
    // Whether a put would suspend: counts the items and places handed to waiters that have
    // not run yet.
    bool full() noexcept { return state_.full(); }
    // Items put and not yet marked done.
    std::size_t unfinished() const noexcept { return state_.unfinished(); }
    std::size_t maxsize() const noexcept { return state_.maxsize(); }
    bool is_shut_down() noexcept { return state_.is_shut_down(); }

private:
    detail::queue_state<T, Order> state_;
};

// First in, first out (asyncio.Queue).
template <class T>
class queue : public basic_queue<T, detail::fifo_order<T>> {
public:
    explicit queue(std::size_t maxsize = 0) noexcept
        : basic_queue<T, detail::fifo_order<T>>(maxsize) {}
};

// Least first under Compare (asyncio.PriorityQueue).
template <class T, class Compare = std::less<T>>
class priority_queue : public basic_queue<T, detail::priority_order<T, Compare>> {
public:
    explicit priority_queue(std::size_t maxsize = 0) noexcept
        : basic_queue<T, detail::priority_order<T, Compare>>(maxsize) {}
};

// Newest first (asyncio.LifoQueue).
template <class T>
class lifo_queue : public basic_queue<T, detail::lifo_order<T>> {
public:
    explicit lifo_queue(std::size_t maxsize = 0) noexcept
        : basic_queue<T, detail::lifo_order<T>>(maxsize) {}
};

} // namespace weft
