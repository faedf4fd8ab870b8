// weft::queue<T>, weft::priority_queue<T> and weft::lifo_queue<T>: hand items from tasks to
// tasks (asyncio.Queue, PriorityQueue, LifoQueue).
//
//     weft::queue<job> jobs(100);            // at most 100 items; 0 (the default): unbounded
//     co_await jobs.put(j);                  // suspends while full
//     job next = co_await jobs.get();        // suspends while empty
//     jobs.task_done();                      // after processing what get() returned
//     co_await jobs.join();                  // until every item put was marked done
//
// Also: size(), empty(), full(), maxsize(), unfinished() (put and not yet task_done) and
// is_shut_down(). try_put and try_get never suspend: try_put returns false when full (leaving its
// argument untouched), try_get an empty optional when empty. Items come out first in, first out
// from a queue, newest first from a lifo_queue, and least first (under Compare, std::less
// by default; equal items in no set order) from a priority_queue.
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
// shutdown() (Python 3.13): put, try_put and waiting putters fail with queue_shut_down;
// get and try_get go on returning the items left and then fail with it, and waiting getters
// wake with it. shutdown(true) also drops the items left, counting each as done for join().
// task_done() more often than items were put throws invalid_state_error. T needs a
// noexcept move constructor. A queue must outlive its waiters; it is neither copied nor
// moved.
#pragma once

#include <cstddef>
#include <functional>

#include <weft/detail/basic_queue.hpp>
#include <weft/detail/queue_order.hpp>

namespace weft {

template <class T>
class queue : public detail::basic_queue<T, detail::fifo_order<T>> {
public:
    explicit queue(std::size_t maxsize = 0) noexcept
        : detail::basic_queue<T, detail::fifo_order<T>>(maxsize) {}
};

template <class T, class Compare = std::less<T>>
class priority_queue : public detail::basic_queue<T, detail::priority_order<T, Compare>> {
public:
    explicit priority_queue(std::size_t maxsize = 0) noexcept
        : detail::basic_queue<T, detail::priority_order<T, Compare>>(maxsize) {}
};

template <class T>
class lifo_queue : public detail::basic_queue<T, detail::lifo_order<T>> {
public:
    explicit lifo_queue(std::size_t maxsize = 0) noexcept
        : detail::basic_queue<T, detail::lifo_order<T>>(maxsize) {}
};

} // namespace weft
