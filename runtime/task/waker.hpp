// How a lower layer makes a suspended task ready again without knowing the scheduler.
//
// The reactor's dispatch (io/reactor.hpp), an io source's signal (io/io_source.hpp) and a
// timer's firing (time/timer_driver.hpp) are handed the waker of the worker they run on and
// give it the handles that became ready; the worker (scheduler/worker.hpp) implements it.
// So time/ and io/ point down to this interface instead of up to the worker.
//
// A waker is used only on its own worker's thread. wake() queues without waking any other
// worker: a poll or a firing may make many tasks ready, and its caller decides once for the
// batch whether another worker should come and steal (it counts what it woke).
#pragma once

#include <coroutine>

namespace weft::detail {

class runtime; // named only, so that a waker can say whose tasks it queues

class waker {
public:
    waker(const waker&) = delete;
    waker& operator=(const waker&) = delete;

    // Queues `handle`, a suspended task of home(), to run on this waker's worker.
    virtual void wake(std::coroutine_handle<> handle) noexcept = 0;

    // The runtime whose tasks wake() takes. A task of another runtime goes through
    // schedule() (detail/scheduler.hpp); a cancelled sleep hands its sleeper back here.
    runtime& home() const noexcept { return home_; }

protected:
    explicit waker(runtime& home) noexcept : home_(home) {}
    ~waker() = default;

private:
    runtime& home_;
};

} // namespace weft::detail
