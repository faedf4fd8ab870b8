// The machinery of weft::task_group (include/weft/task_group.hpp): a group's shared state
// (group_state, which argues its lock and its count), its members, and the wrapper that runs
// each member and reports its failure. The group owns each member from admission until it
// reclaims it after its task ended.
#pragma once

#include <atomic>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/cancel_record.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft {

class task_group;

namespace detail {

// What with_task_group accepts: a callable taking the group and returning a weft::coro.
template <class Body>
concept task_group_body =
    std::invocable<Body&, task_group&> && is_coro_v<std::invoke_result_t<Body&, task_group&>>;

// Awaits a group; defined in task_group_awaiter.hpp, since it holds a complete task_group.
template <class Body>
class task_group_awaiter;

class group_state;

// One member of a group: its task, the waiter that learns of the task's end, and its place
// in the group's list. The group owns it from admission until it is reclaimed after the
// task ended; holding the task keeps the frame, and so the strand word, alive meanwhile.
// The group cancels a member as task::cancel() does, so the member's cancelling() counts it,
// as asyncio's TaskGroup counts its t.cancel().
struct group_member : waiter_node {
    virtual ~group_member() = default;

    group_state* group = nullptr;
    // The member task's header, which cancelling it goes through; null until the task is
    // launched.
    frame_header* task_header = nullptr;
    group_member* older = nullptr; // the list of members, guarded by the group's lock
    group_member* newer = nullptr;
    group_member* next_ended = nullptr; // the stack of ended members, then their reclaiming
};

template <class T>
struct typed_member final : group_member {
    ~typed_member() override {
        if (handle) {
            // The group reports the task's failure, if any, in its exception_group.
            completion_access::mark_retrieved(handle);
            // Still linked only when its runtime shut down before the task ended.
            completion_access::waiters(handle).remove(*this);
        }
    }

    task<T> handle; // empty while create_task has not yet launched the task
};

// The body of with_task_group, or a member created by task_group::create_task.
enum class member_kind : bool { body, member };

// The shared state of one group, in the awaiting coroutine's frame.
//
// `remaining_` counts the members not yet ended plus one for the awaiting coroutine, which
// it drops once the body is launched; whoever brings it to zero resumes the awaiter. The
// lock guards the member list, the phase and the errors. It is taken with no waiter list's
// lock held, and a member's end, which runs under its task's waiter list lock, takes no
// lock: it pushes the member onto `ended_` and counts down. So the group may cancel its
// members under its lock, whatever their interruptions take, and reclaims ended members
// (unlink under the lock, delete outside it) when a member is created and at the end.
class group_state {
public:
    group_state() = default;
    group_state(const group_state&) = delete;
    group_state& operator=(const group_state&) = delete;
    // Members remain only if the runtime shut down while the group waited. Then no worker
    // runs any more, so no lock is needed.
    ~group_state() {
        group_member* all = unlink_ended();
        while (newest_ != nullptr) {
            group_member* member = newest_;
            newest_ = member->older;
            member->next_ended = all;
            all = member;
        }
        destroy(all);
    }

    // The awaiting coroutine, before the body is created: where the last arrival resumes it.
    void start(runtime& home, std::coroutine_handle<> parent) noexcept {
        home_ = &home;
        parent_ = parent;
    }

    // Launches `work` as a task that is a member of the group. Throws runtime_error if the
    // group is shutting down after a failure or has ended.
    template <class A>
    task<await_result_t<A>> spawn(A work, member_kind kind = member_kind::member);

    // A member failed with `error`, not a cancellation: the first failure cancels the rest.
    void record_failure(std::exception_ptr error) {
        const std::lock_guard hold(lock_);
        errors_.push_back(std::move(error));
        if (phase_ == phase::open) {
            cancel_members();
        }
        phase_ = phase::failed;
    }

    // The awaiting task was cancelled: so is every member, present and future.
    void cancel_for_parent() noexcept {
        const std::lock_guard hold(lock_);
        if (phase_ == phase::open) {
            cancel_members();
            phase_ = phase::cancelling;
        }
    }

    // Counts one member, or the awaiting coroutine, out; true for the last, which then owns
    // resuming the awaiter.
    bool arrive() noexcept {
        // acq_rel: each member's end releases what it did (its result, its push onto
        // ended_); the last arrival acquires them all, the RMWs forming one release
        // sequence, before the awaiter resumes.
        return remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1;
    }

    // The awaiting coroutine, once everything ended: reclaims the members and returns the
    // failures in the order they happened.
    std::vector<std::exception_ptr> finish() {
        group_member* ended = nullptr;
        std::vector<std::exception_ptr> errors;
        {
            const std::lock_guard hold(lock_);
            ended = unlink_ended();
            errors.swap(errors_);
        }
        destroy(ended);
        return errors;
    }

private:
    enum class phase : std::uint8_t { open, cancelling, failed };

    // Links `member`, not yet launched, and counts it in; or throws. Returns the members
    // that ended, unlinked, for the caller to destroy once the lock is released.
    group_member* admit(group_member& member) {
        const std::lock_guard hold(lock_);
        // relaxed: the count only decides who resumes the awaiter; an increment from a
        // value above zero comes before the decrement it pairs with in the count's single
        // modification order, and publishes nothing.
        std::size_t seen = remaining_.load(std::memory_order_relaxed);
        do {
            if (seen == 0) {
                throw runtime_error("weft::task_group::create_task: the group has ended");
            }
            if (phase_ == phase::failed) {
                throw runtime_error("weft::task_group::create_task: the group is shutting "
                                    "down after a failure");
            }
        } while (!remaining_.compare_exchange_weak(seen, seen + 1, std::memory_order_relaxed));
        member.older = newest_;
        if (newest_ != nullptr) {
            newest_->newer = &member;
        }
        newest_ = &member;
        return unlink_ended();
    }

    // Gives the admitted `member` its launched task. A cancellation of the group that came
    // in between skipped it, so it is cancelled now.
    template <class T>
    void attach(typed_member<T>& member, const task<T>& launched) noexcept {
        const std::lock_guard hold(lock_);
        member.handle = launched;
        member.task_header = &completion_access::header(launched);
        if (phase_ != phase::open) {
            cancel_task(*member.task_header, nullptr); // delivered at its first suspension
        }
    }

    // Under the lock.
    void cancel_members() noexcept {
        for (group_member* member = newest_; member != nullptr; member = member->older) {
            if (member->task_header != nullptr) { // else not yet attached: attach cancels it
                cancel_task(*member->task_header, nullptr);
            }
        }
    }

    // Under the lock: takes the stack of ended members and unlinks each from the list.
    group_member* unlink_ended() noexcept {
        // acquire: pairs with member_ended's release, so each ended member's last writes
        // happen before it is reclaimed.
        group_member* ended = ended_.exchange(nullptr, std::memory_order_acquire);
        for (group_member* member = ended; member != nullptr; member = member->next_ended) {
            (member->newer != nullptr ? member->newer->older : newest_) = member->older;
            if (member->older != nullptr) {
                member->older->newer = member->newer;
            }
        }
        return ended;
    }

    // Outside the lock: dropping a member's task may destroy its frame, and with it the
    // member's result, whose destructor is the user's code.
    static void destroy(group_member* chain) noexcept {
        while (chain != nullptr) {
            delete std::exchange(chain, chain->next_ended);
        }
    }

    // A member's task ended (its wake, under the task's waiter list lock; or create_task,
    // when the task ended before its waiter was enqueued).
    static void on_member_end(waiter_node& node) noexcept {
        auto& member = static_cast<group_member&>(node);
        member.group->member_ended(member);
    }
    void member_ended(group_member& member) noexcept {
        // relaxed: the CAS below publishes the link.
        group_member* top = ended_.load(std::memory_order_relaxed);
        do {
            member.next_ended = top;
            // release: the reclaimer's acquire exchange sees the member fully written, and
            // this thread's accesses to it over, before it deletes it. An ABA cannot occur:
            // the stack is only pushed onto and taken whole.
        } while (!ended_.compare_exchange_weak(top, &member, std::memory_order_release,
                                               std::memory_order_relaxed));
        // From here the member may be reclaimed; the group lives until the last arrival.
        if (arrive()) {
            schedule(*home_, parent_);
        }
    }

    std::mutex lock_;
    group_member* newest_ = nullptr;
    phase phase_ = phase::open;
    std::vector<std::exception_ptr> errors_;
    std::atomic<std::size_t> remaining_{1};
    std::atomic<group_member*> ended_{nullptr};
    runtime* home_ = nullptr;
    std::coroutine_handle<> parent_;
};

// What a member task runs: the work and, if it fails with anything but cancelled_error, the
// report that cancels the rest of the group. The report is made here, on the member's own
// strand and outside every lock, and not when the member's end is counted, which runs under
// its task's waiter list lock.
template <class A>
coro<await_result_t<A>> run_member(group_state& group, A work) {
    try {
        co_return co_await std::move(work);
    } catch (const cancelled_error&) {
        throw;
    } catch (...) {
        group.record_failure(std::current_exception());
        throw;
    }
}

template <class A>
task<await_result_t<A>> group_state::spawn(A work, member_kind kind) {
    using result = await_result_t<A>;
    // Checked first: after admission, weft::create_task below cannot throw.
    require_running_runtime("weft::task_group::create_task");
    auto member = std::make_unique<typed_member<result>>();
    coro<result> wrapped = run_member<A>(*this, std::move(work));
    if (kind == member_kind::body) {
        // The body stands for asyncio's `async with` block, which runs inline in the awaiting
        // task: a cancellation already pending reaches it at its first suspension.
        coro_access::promise(wrapped).ignore_pending_cancel_at_ends();
    }
    member->group = this;
    member->wake = &on_member_end;
    group_member* ended = admit(*member);
    // The list owns the member now. Until attach, the task is kept alive by `launched`.
    typed_member<result>& admitted = *member.release();
    task<result> launched = weft::create_task(std::move(wrapped));
    attach(admitted, launched);
    // The member is complete before its waiter is enqueued: from the wake on, it may be
    // reclaimed.
    if (!completion_access::waiters(launched).enqueue(admitted)) {
        member_ended(admitted); // it has already ended
    }
    destroy(ended);
    return launched;
}

} // namespace detail

} // namespace weft
