// The awaiters a weft queue's put() and get() return: each holds its waiter (the slot the
// queue links into its putters' or getters' list and hands an item or a place to) and runs
// the queue_state protocol: begin_ when the coroutine is about to suspend, end_ as it resumes.
//
// An awaiter may be moved until it is awaited (to create_task, wait_for or gather); moving
// one that is suspended is a precondition violation. The attempt is made in await_suspend,
// under the one lock that also links the waiter if it must wait: a contended queue is
// locked once per put or get, not twice.
#pragma once

#include <coroutine>
#include <utility>

#include <weft/detail/queue_state.hpp>

namespace weft::detail {

// What a put and a get share: the queue, the waiter, and filling the waiter in before the
// attempt.
template <class T, class Order>
class queue_wait {
public:
    queue_wait(queue_wait&&) noexcept = default;
    queue_wait(const queue_wait&) = delete;

    bool await_ready() const noexcept { return false; }

protected:
    explicit queue_wait(queue_state<T, Order>& target) noexcept : target_(&target) {}

    template <class Promise>
    void prepare(std::coroutine_handle<Promise> awaiting, const char* what) {
        waiter_.awaiting = awaiting;
        waiter_.home = &require_running_runtime(what);
        waiter_.strand = strand_of(awaiting);
    }

    queue_state<T, Order>* target_;
    queue_waiter<T> waiter_;
};

template <class T, class Order>
class [[nodiscard]] queue_putter : public queue_wait<T, Order> {
public:
    queue_putter(queue_state<T, Order>& target, T&& item) noexcept : queue_wait<T, Order>(target) {
        this->waiter_.item.emplace(std::move(item));
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        this->prepare(awaiting, "weft::queue::put");
        return this->target_->begin_put(this->waiter_);
    }
    void await_resume() {
        resume_in(this->waiter_.strand);
        this->target_->end_put(this->waiter_);
    }
};

template <class T, class Order>
class [[nodiscard]] queue_getter : public queue_wait<T, Order> {
public:
    explicit queue_getter(queue_state<T, Order>& target) noexcept : queue_wait<T, Order>(target) {}

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        this->prepare(awaiting, "weft::queue::get");
        return this->target_->begin_get(this->waiter_);
    }
    T await_resume() {
        resume_in(this->waiter_.strand);
        return this->target_->end_get(this->waiter_);
    }
};

} // namespace weft::detail
