// wait_awaiter: what weft::wait returns. It puts one arrival_node on each task's waiter
// list when it suspends and removes them all before it resumes or dies, which waits out an
// arrival still running; the arrivals that satisfy the condition go on its arrival_queue,
// whose first push resumes the awaiting coroutine. wait_at_most is the wait with a limit.
// Included by wait.hpp after its declarations.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/detail/arrival_queue.hpp>
#include <weft/detail/await_once.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/requeue_then_resume.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>
#include <weft/timeout.hpp>
#include <weft/wait.hpp>

namespace weft::detail {

// co_await weft::wait(...): one node per task, linked when the wait suspends and removed
// when it resumes. The arrivals that satisfy the condition are pushed on the queue; the
// first one resumes the awaiter (through requeue_then_resume unless all must end).
// Cancelling the awaiting task withdraws the wait.
template <class T>
class [[nodiscard]] wait_awaiter : public cancel_target {
public:
    wait_awaiter(std::vector<task<T>>&& tasks, return_when when)
        : tasks_(std::move(tasks)), when_(when) {
        for (const task<T>& each : tasks_) {
            if (!each) {
                throw invalid_state_error("weft::wait: a task in the vector is empty "
                                          "(default-constructed or moved from)");
            }
        }
    }
    // Movable until awaited, so a wait can be handed to create_task.
    wait_awaiter(wait_awaiter&& other) noexcept
        : tasks_(std::move(other.tasks_)), when_(other.when_) {}
    ~wait_awaiter() { stop_watching(); }

    bool await_ready() {
        once_.claim("weft::wait");
        std::size_t done = 0;
        for (const task<T>& each : tasks_) {
            if (each.done()) {
                if (ends_wait(each)) {
                    return true;
                }
                ++done;
            }
        }
        return done == tasks_.size();
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        runtime& home = require_running_runtime("weft::wait");
        // all_completed ends with the last task: nothing can end in the same step after it.
        if (when_ != return_when::all_completed) {
            resumer_ = resume_after_the_ready(home, awaiting);
        }
        arrivals_.set_consumer(awaiting, home, resumer_.handle());
        nodes_ = std::make_unique<watch_node[]>(tasks_.size());
        // Published while arming, before any node is linked: from here a canceller and
        // the arrivals race on the queue.
        strand_ = strand_of(awaiting);
        if (strand_ != nullptr) {
            interrupt = &on_cancel;
            if (!publish_target(*strand_, *this)) {
                return false; // a cancellation was pending: the wait ends in cancelled_error
            }
        }
        // relaxed: written before any node is linked; the lists' locks publish it.
        unfinished_.store(tasks_.size(), std::memory_order_relaxed);
        for (; linked_ < tasks_.size(); ++linked_) {
            watch_node& node = nodes_[linked_];
            node.index = linked_;
            node.owner = this;
            node.wake = &on_done;
            if (!completion_access::waiters(tasks_[linked_]).enqueue(node)) {
                arrive(node); // it ended since await_ready; the queue is still arming
            }
        }
        return arrivals_.arm();
    }

    wait_result<T> await_resume() {
        resume_in(strand_);
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw_delivered_cancellation();
        }
        stop_watching();
        wait_result<T> result;
        for (task<T>& each : tasks_) {
            (each.done() ? result.done : result.pending).push_back(std::move(each));
        }
        return result;
    }

private:
    struct watch_node : arrival_node {
        wait_awaiter* owner = nullptr;
    };

    // Whether the end of `ended` satisfies the wait on its own. As in asyncio, a task that
    // was cancelled does not satisfy first_exception.
    bool ends_wait(const task<T>& ended) const noexcept {
        if (when_ == return_when::first_completed) {
            return true;
        }
        const std::exception_ptr error = completion_access::result(ended).exception();
        return when_ == return_when::first_exception && error && !is_cancellation(error);
    }

    // Under the task's list lock, or on the awaiting thread while it arms.
    void arrive(watch_node& node) noexcept {
        // acq_rel: each arrival releases its task's end; the last one acquires them all
        // (the RMWs form one release sequence), and its push carries them to the awaiter,
        // which then sees every task done.
        const bool last = unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1;
        if (last || ends_wait(tasks_[node.index])) {
            arrivals_.push(node);
        }
    }
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<watch_node&>(node);
        self.owner->arrive(self);
    }

    static interruption on_cancel(cancel_target& target) noexcept {
        return static_cast<wait_awaiter&>(target).arrivals_.withdraw();
    }

    // Unlinks every node; when it returns, no arrival is running.
    void stop_watching() noexcept {
        for (std::size_t index = 0; index < linked_; ++index) {
            completion_access::waiters(tasks_[index]).remove(nodes_[index]);
        }
        linked_ = 0;
    }

    std::vector<task<T>> tasks_;
    std::unique_ptr<watch_node[]> nodes_;
    std::size_t linked_ = 0;      // nodes_[0, linked_) were enqueued
    requeue_then_resume resumer_; // first_completed and first_exception
    arrival_queue arrivals_{true};
    std::atomic<std::size_t> unfinished_{0};
    strand_word* strand_ = nullptr;
    return_when when_;
    await_once once_;
};

template <class T>
coro<wait_result<T>> wait_at_most(std::vector<task<T>> tasks, return_when when,
                                  std::chrono::nanoseconds limit) {
    std::vector<task<T>> watched = tasks;
    try {
        co_return co_await wait_for(wait_awaiter<T>(std::move(tasks), when), limit);
    } catch (const timeout_error&) {
    }
    wait_result<T> result;
    for (task<T>& each : watched) {
        (each.done() ? result.done : result.pending).push_back(std::move(each));
    }
    co_return result;
}

} // namespace weft::detail
