// The awaiter of weft::with_task_group (include/weft/task_group.hpp): it owns the body and
// the group, launches the body as the group's first member and resumes the awaiting
// coroutine once every member has ended. It holds a task_group, so task_group.hpp includes
// this file after defining it.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

#include <weft/detail/await_once.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/detail/task_group_state.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>
#include <weft/task_group.hpp>

namespace weft::detail {

// Awaiting a group: launches the body as its first member, then waits for the count to
// reach zero. A forwarding cancellation target: cancelling the awaiting task cancels every
// member, and the await ends once they all have.
template <class Body>
class [[nodiscard]] task_group_awaiter : public cancel_target {
public:
    using value_type = typename std::invoke_result_t<Body&, task_group&>::value_type;

    explicit task_group_awaiter(Body body) : body_(std::move(body)) {}
    // Movable until awaited, so a group can be handed to create_task.
    task_group_awaiter(task_group_awaiter&& other) noexcept(
        std::is_nothrow_move_constructible_v<Body>)
        : body_(std::move(other.body_)) {}

    bool await_ready() {
        once_.claim("weft::with_task_group");
        return false;
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        group_.state_.start(require_running_runtime("weft::with_task_group"), awaiting);
        body_task_ = group_.state_.spawn(body_(group_), member_kind::body);
        // Published before the awaiting coroutine's own arrival, so before the group can end.
        strand_ = strand_of(awaiting);
        interrupt = &on_cancel;
        if (strand_ != nullptr && !publish_target(*strand_, *this)) {
            group_.state_.cancel_for_parent(); // a cancellation was pending
        }
        return group_.state_.arrive() ? transfer_to(awaiting, awaiting) : std::noop_coroutine();
    }

    // Failures take priority over a cancellation of the awaiting task, as in asyncio; the
    // cancellation is then left pending, so that the task's next suspension point delivers
    // it (asyncio 3.13 cancels the parent again): a task group never swallows it.
    value_type await_resume() {
        resume_in(strand_);
        const bool cancelled = strand_ != nullptr && leave_target(*strand_, *this);
        cancel_message message = cancelled ? take_consumed_message() : nullptr;
        std::vector<std::exception_ptr> errors = group_.state_.finish();
        if (!errors.empty()) {
            if (cancelled) {
                rearm_cancel(*strand_, std::move(message));
            }
            throw exception_group(std::move(errors));
        }
        if (cancelled) {
            throw_cancellation(message);
        }
        return task_access::take_result(body_task_);
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        static_cast<task_group_awaiter&>(target).group_.state_.cancel_for_parent();
        return {interruption::outcome::forwarded};
    }

    Body body_;
    task_group group_;
    task<value_type> body_task_;
    strand_word* strand_ = nullptr;
    await_once once_;
};

} // namespace weft::detail
