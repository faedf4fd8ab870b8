// requeue_then_resume: a small coroutine frame through which an arrival resumes a waiting
// coroutine one trip through the ready queue later, so the waiter runs after every task
// woken by the same step (weft::wait uses it for first_completed and first_exception).
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

#include <weft/detail/scheduler.hpp>

namespace weft::detail {

// How an arrival resumes a wait that ends before all its tasks do: through one more trip
// through the ready queue, so the waiter runs after every task woken by the step that
// satisfied it (asyncio's waiter likewise resumes after the ready callbacks of that step),
// and `done` holds the tasks that ended in that step. The frame is made suspended; the
// first resume queues it again, the second hands over to the waiter and parks at the
// final suspension, where its owner destroys it.
class requeue_then_resume {
public:
    struct promise_type {
        promise_type(runtime& home, std::coroutine_handle<> waiter) noexcept
            : home(&home), waiter(waiter) {}

        requeue_then_resume get_return_object() noexcept {
            return requeue_then_resume(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        auto final_suspend() noexcept {
            struct to_waiter {
                bool await_ready() const noexcept { return false; }
                std::coroutine_handle<>
                await_suspend(std::coroutine_handle<promise_type> self) noexcept {
                    return self.promise().waiter;
                }
                void await_resume() const noexcept {}
            };
            return to_waiter{};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }

        runtime* home;
        std::coroutine_handle<> waiter;
    };

    requeue_then_resume() noexcept = default;
    requeue_then_resume(requeue_then_resume&& other) noexcept
        : frame_(std::exchange(other.frame_, {})) {}
    requeue_then_resume& operator=(requeue_then_resume&& other) noexcept {
        std::swap(frame_, other.frame_);
        return *this;
    }
    ~requeue_then_resume() {
        if (frame_) {
            frame_.destroy();
        }
    }

    // What an arrival schedules.
    std::coroutine_handle<> handle() const noexcept { return frame_; }

private:
    explicit requeue_then_resume(std::coroutine_handle<promise_type> frame) noexcept
        : frame_(frame) {}

    std::coroutine_handle<promise_type> frame_;
};

// Behind whatever is ready on `home` now.
struct requeue_on {
    runtime* home;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) const noexcept { schedule(*home, self); }
    void await_resume() const noexcept {}
};

// The promise keeps `waiter`; the body only queues the frame once more.
inline requeue_then_resume resume_after_the_ready(runtime& home,
                                                  [[maybe_unused]] std::coroutine_handle<> waiter) {
    co_await requeue_on{&home};
}

} // namespace weft::detail
