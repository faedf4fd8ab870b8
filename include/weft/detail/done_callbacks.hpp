// The done callbacks of tasks and futures (task::add_done_callback and the future's): each
// runs once, on a worker of the runtime it was added on, after its source is done, and never
// inline, neither under the source's lock nor in the call that completes or adds.
//
// The callbacks added on one runtime to one source form a batch, kept in a table beside the
// frames (runtime/task/done_callbacks.cpp) under the source's waiter list as key: a task or
// a future that never gets a callback pays nothing, not a byte, not an instruction. The
// call that makes a batch launches its runner, an internal task that waits for the source
// as any awaiter does (a waiter on its list, woken by its completion) and then takes the
// batch's callbacks one at a time, oldest first, and runs each. It erases the batch only
// when it finds it empty, so a callback added while earlier ones run still runs after them
// on the same runner: one batch's callbacks never overlap and keep the order they were added.
//
// Invariants: a batch exists from its first callback until its runner, the source done,
// finds it empty or ends otherwise; a callback is in its batch (then removable), being run,
// or destroyed, so it runs at most once. The runner never retrieves the source's result.
//
// Shutdown: waiting on a task, the runner does not take the shutdown's cancellation (it ends
// nothing, it is delivered nowhere), and the task, cancelled by the same shutdown, ends and
// wakes it; waiting on a future, it publishes a withdrawing target, so the shutdown's
// cancellation ends the wait and the callbacks are dropped unrun, as the future has nothing
// left on the runtime to complete it. A runner destroyed by the teardown drops them too.
#pragma once

#include <concepts>
#include <coroutine>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/done_callback_id.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

// One callback added and neither run nor removed yet.
class done_callback {
public:
    explicit done_callback(done_callback_id id) noexcept : id_(id) {}
    done_callback(const done_callback&) = delete;
    done_callback& operator=(const done_callback&) = delete;
    virtual ~done_callback() = default;

    done_callback_id id() const noexcept { return id_; }
    virtual void run() = 0;

private:
    done_callback_id id_;
};

// The callable and the handle it is called with, which keeps the source alive meanwhile.
template <class Source, class Callback>
class done_callback_of final : public done_callback {
public:
    done_callback_of(done_callback_id id, const Source& source, Callback callback)
        : done_callback(id), source_(source), callback_(std::move(callback)) {}

    void run() override { callback_(source_); }

private:
    const Source source_;
    Callback callback_;
};

// A batch: the callbacks added to the source whose waiter list is `source`, on `home`.
struct done_batch_key {
    const waiter_list* source = nullptr;
    runtime* home = nullptr;
};

// Appends `callback` to its batch; true if that made the batch, whose runner the caller
// then launches.
bool enlist_done_callback(done_batch_key key, std::unique_ptr<done_callback> callback);
// The batch's oldest callback, taken out of it; null when none is left, and then the batch
// is erased.
std::unique_ptr<done_callback> next_done_callback(done_batch_key key) noexcept;
// Erases the batch, if any, and destroys its callbacks unrun.
void drop_done_callbacks(done_batch_key key) noexcept;
// remove_done_callback: takes the callback named `id` out of whichever batch of the source
// holds it; false if none does (it ran, is running, was removed or was never added here).
bool remove_done_callback(const waiter_list& source, done_callback_id id) noexcept;
done_callback_id make_done_callback_id() noexcept;
// Runs `callback`; what it throws goes to the running runtime's exception handler, or to
// stderr if the runtime has none (asyncio's loop.call_exception_handler).
void run_done_callback(done_callback& callback) noexcept;

// What the runner awaits: its source's completion, without retrieving the result. On a
// future it is a withdrawing cancel target, published under the list's lock as the
// future's own awaiter does; on a task it publishes none (see the top of this file).
template <class Source>
class done_wait : public resume_waiter, public cancel_target {
public:
    explicit done_wait(const Source& source) noexcept : source_(source) {}
    done_wait(const done_wait&) = delete;
    done_wait& operator=(const done_wait&) = delete;
    ~done_wait() { completion_access::waiters(source_).remove(*this); }

    bool await_ready() const noexcept { return completion_access::waiters(source_).done(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> runner) {
        prepare(runner, "weft: running done callbacks");
        waiter_list& waiters = completion_access::waiters(source_);
        strand_ = strand_of(runner);
        if constexpr (completion_access::is_future<Source>) {
            interrupt = &on_cancel;
            return waiters.enqueue(*this, [this] { return publish_target(*strand_, *this); });
        } else {
            return waiters.enqueue(*this);
        }
    }
    void await_resume() noexcept {
        resume_in(strand_); // the callbacks run in the runner's context, its adder's
        if constexpr (completion_access::is_future<Source>) {
            if (strand_ != nullptr && leave_target(*strand_, *this)) {
                take_consumed_message(); // the cancellation only ends the wait
            }
        }
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        auto& self = static_cast<done_wait&>(target);
        if (!completion_access::waiters(self.source_).remove(self)) {
            return {}; // too late: the future completed and is waking the runner
        }
        return self.withdrawn();
    }

    const Source& source_;
    strand_word* strand_ = nullptr;
};

// The runner of the batch `key`, which holds `source` while it waits.
template <class Source>
coro<> run_done_callbacks(Source source, done_batch_key key) {
    // However the frame ends before the batch is found empty (the wait withdrawn, the frame
    // destroyed by the teardown), what is left of the batch is dropped with it.
    struct batch_owner {
        done_batch_key key;
        bool emptied = false;
        ~batch_owner() {
            if (!emptied) {
                drop_done_callbacks(key);
            }
        }
    } owner{key};
    co_await done_wait<Source>(source);
    if (!completion_access::waiters(source).done()) {
        co_return;
    }
    while (const std::unique_ptr<done_callback> next = next_done_callback(key)) {
        run_done_callback(*next);
    }
    owner.emptied = true;
}

// task::add_done_callback and future::add_done_callback; `what` names the caller.
template <class Source, class Callback>
done_callback_id add_done_callback(const Source& source, Callback&& callback, const char* what) {
    if (completion_access::empty(source)) {
        throw invalid_state_error(std::string(what) + ": the handle is empty");
    }
    completion_access::check_not_torn_down(source);
    runtime& home = require_running_runtime(what);
    const done_batch_key key{&completion_access::waiters(source), &home};
    const done_callback_id id = make_done_callback_id();
    // Made before the batch is looked at, so a failure to make it leaves no batch without
    // a runner; destroyed unstarted if the batch already has one.
    coro<> runner = run_done_callbacks(source, key);
    if (!enlist_done_callback(key,
                              std::make_unique<done_callback_of<Source, std::decay_t<Callback>>>(
                                  id, source, std::forward<Callback>(callback)))) {
        return id;
    }
    const coro_handle<void> handle = coro_access::release(runner);
    // The shutdown's cancellation must neither keep it from starting nor end it early.
    handle.promise().ignore_pending_cancel_at_ends();
    frame_header* header = make_task(handle);
    header->mark_internal();
    launch_task(header, handle);
    // launch_task counted a task handle for the caller; the runner is kept by no handle.
    release_task(header, &report_if_unretrieved<coro_promise<void>>);
    return id;
}

} // namespace weft::detail
