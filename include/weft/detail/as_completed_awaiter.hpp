// The machinery of weft::as_completed. as_completed_state keeps the tasks, a node on each
// task's waiter list for the stream's whole life, and the arrival queue those nodes push
// on when their task ends. as_completed_awaiter, what next() returns, claims that queue for
// one suspension; the next arrival or a canceller resumes it, and a cancellation leaves the
// arrival queued for the next call. Every node is removed from its list before the state
// dies, which waits out an arrival still running.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <weft/detail/arrival_queue.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft::detail {

// The tasks of one weft::as_completed and their arrivals: a node on each task's waiter list
// from construction to destruction, whose wake pushes it on the arrival queue. Neither
// copied nor moved: the nodes point at it.
template <class T>
class as_completed_state {
public:
    explicit as_completed_state(std::vector<task<T>> tasks) : tasks_(std::move(tasks)) {
        for (const task<T>& each : tasks_) {
            if (!each) {
                throw invalid_state_error("weft::as_completed: a task in the vector is empty "
                                          "(default-constructed or moved from)");
            }
        }
        nodes_ = std::make_unique<watch_node[]>(tasks_.size());
        for (std::size_t index = 0; index < tasks_.size(); ++index) {
            watch_node& node = nodes_[index];
            node.index = index;
            node.owner = this;
            node.wake = &on_done;
            if (!completion_access::waiters(tasks_[index]).enqueue(node)) {
                arrivals_.push(node);
            }
        }
    }
    as_completed_state(const as_completed_state&) = delete;
    as_completed_state& operator=(const as_completed_state&) = delete;
    ~as_completed_state() {
        for (std::size_t index = 0; index < tasks_.size(); ++index) {
            completion_access::waiters(tasks_[index]).remove(nodes_[index]);
        }
    }

    std::size_t remaining() const noexcept { return tasks_.size() - yielded_; }

    arrival_queue& arrivals() noexcept { return arrivals_; }

    bool has_arrival() const noexcept { return taken_ != nullptr || !arrivals_.empty(); }

    // Yields the oldest arrival; one is queued or taken.
    task<T> take_arrival() {
        if (taken_ == nullptr) {
            taken_ = arrivals_.take_all();
        }
        const arrival_node* next = taken_;
        taken_ = next->next_arrival;
        ++yielded_;
        return tasks_[next->index];
    }

private:
    struct watch_node : arrival_node {
        as_completed_state* owner = nullptr;
    };
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<watch_node&>(node);
        self.owner->arrivals_.push(self);
    }

    std::vector<task<T>> tasks_;
    std::unique_ptr<watch_node[]> nodes_;
    arrival_queue arrivals_{false};
    arrival_node* taken_ = nullptr; // taken from the queue, not yet yielded; oldest first
    std::size_t yielded_ = 0;
};

// co_await stream.next(): waits for the stream's next arrival. Cancelling the awaiting task
// withdraws the wait; the arrival stays queued for the next call.
template <class T>
class [[nodiscard]] as_completed_awaiter : public cancel_target {
public:
    explicit as_completed_awaiter(as_completed_state<T>& stream) noexcept : stream_(&stream) {}

    bool await_ready() const noexcept { return stream_->has_arrival(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        arrival_queue& arrivals = stream_->arrivals();
        arrivals.set_consumer(awaiting, require_running_runtime("weft::as_completed::next"));
        if (!arrivals.begin()) {
            return false; // a task ended since await_ready
        }
        strand_ = strand_of(awaiting);
        if (strand_ != nullptr) {
            interrupt = &on_cancel;
            if (!publish_target(*strand_, *this)) {
                arrivals.abandon(); // a cancellation was pending
                return false;
            }
        }
        return arrivals.arm();
    }

    task<T> await_resume() {
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error();
        }
        return stream_->take_arrival();
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        return static_cast<as_completed_awaiter&>(target).stream_->arrivals().withdraw();
    }

    as_completed_state<T>* stream_;
    strand_word* strand_ = nullptr;
};

} // namespace weft::detail
