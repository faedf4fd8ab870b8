// The out-of-line functions declared in include/weft/detail/scheduler.hpp: the only way
// header code reaches worker-local state (see that header for why).
#include <weft/detail/gather_join.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

#include <string>

#include "scheduler/runtime.hpp"
#include "task/context_in_use.hpp"

namespace weft::detail {

runtime* running_runtime() noexcept {
    worker* here = worker::on_this_thread();
    return here ? &here->owner() : nullptr;
}

void throw_outside_runtime(const char* what) {
    throw runtime_error(std::string(what) + ": no running weft runtime on this thread");
}

runtime& require_running_runtime(const char* what) {
    if (runtime* here = running_runtime()) {
        return *here;
    }
    throw_outside_runtime(what);
}

void schedule(runtime& target, std::coroutine_handle<> handle) noexcept {
    worker* here = worker::on_this_thread();
    if (here != nullptr && &here->owner() == &target) {
        here->push_ready(handle);
    } else {
        target.inject(handle);
    }
}

bool launch_task(frame_header* header, std::coroutine_handle<> handle) noexcept {
    worker* here = worker::on_this_thread();
    if (here == nullptr) {
        return false;
    }
    inherit_context(header->task_strand());
    // Two references: the running coroutine's and the caller's task handle.
    here->owner().launch(header, handle, 2, here);
    return true;
}

void enter_join_out_of_line(gather_join& join, const char* what) {
    enter_join_here(join, what);
}

void schedule_parent(gather_join& join) noexcept {
    schedule(join.launcher->owner(), join.parent);
}

namespace {

// complete_task's paths off its common one (an unshared shard, no drain), out of line and
// reached by tail calls, so that the common one needs no stack frame.

// A task registered by another worker: done now, unregistered with a batch of others, its
// running reference held until then (task_registry.hpp).
[[gnu::noinline]] void complete_task_of_another_shard(worker* here, frame_header* header,
                                                      const unretrieved_check* check,
                                                      pending_cancel_end cancelled) noexcept {
    complete_task_keeping_reference(header, check, cancelled);
    here->unregister_later(header);
}

// A task this worker has taken out of the registry: counted as ended (during a drain it may
// be the last, and end the drain), then completed.
[[gnu::noinline]] void complete_removed_task(runtime& owner, frame_header* header,
                                             const unretrieved_check* check,
                                             pending_cancel_end cancelled) noexcept {
    owner.task_ended();
    complete_and_release_task(header, check, cancelled);
}

// A task of this worker's shard, which other threads touch too: removed under its lock.
[[gnu::noinline]] void complete_task_of_shared_shard(runtime& owner, frame_header* header,
                                                     const unretrieved_check* check,
                                                     pending_cancel_end cancelled) noexcept {
    owner.registry().remove(header);
    complete_removed_task(owner, header, check, cancelled);
}

} // namespace

void complete_task(frame_header* header, const unretrieved_check* check,
                   pending_cancel_end cancelled) noexcept {
    worker* here = worker::on_this_thread();
    if (header->registry_shard != here->id()) {
        complete_task_of_another_shard(here, header, check, cancelled);
        return;
    }
    runtime& owner = here->owner();
    if (!owner.registry().remove_if_unshared(header)) {
        complete_task_of_shared_shard(owner, header, check, cancelled);
        return;
    }
    if (owner.draining()) [[unlikely]] {
        complete_removed_task(owner, header, check, cancelled);
        return;
    }
    complete_and_release_task(header, check, cancelled);
}

std::coroutine_handle<> arrive_taking_last_fork(gather_join& join) noexcept {
    worker* here = worker::on_this_thread();
    if (here != nullptr && here->take_fork(join.last_fork)) {
        // The count read 2: the arriving child and the one just taken back, which nobody
        // else can run now. relaxed: that child reads the count after this store, on this
        // thread or through whatever resumes it elsewhere; the caller's load of 2 acquired
        // the others.
        join.remaining.store(1, std::memory_order_relaxed);
        return join.last_fork;
    }
    // A tail call, so that this function keeps no register across a call of its own.
    return arrive_then_next_fork(join);
}

std::coroutine_handle<> arrive_then_next_fork(gather_join& join) noexcept {
    if (const std::coroutine_handle<> parent = join.arrive_counted()) {
        return parent;
    }
    worker* here = worker::on_this_thread();
    return here != nullptr ? here->take_newest_fork() : std::coroutine_handle<>();
}

namespace {

// launch_children's every case; the two-child gather nobody has arrived at yet is also
// launch_children's own fast path, which needs no register saves.
[[gnu::noinline]] std::coroutine_handle<> launch_children_in_general(gather_join& join,
                                                                     std::coroutine_handle<>* forks,
                                                                     std::size_t count) noexcept {
    if (count == 0) {
        return join.arrive() ? join.parent : std::noop_coroutine();
    }
    join.last_fork = count > 1 ? forks[count - 1] : std::coroutine_handle<>();
    // acquire: pairs with the release of every task or future child that already arrived,
    // so that a count equal to count + 1 means every child still out is one of `forks`.
    if (join.remaining.load(std::memory_order_acquire) == count + 1) {
        // No child can arrive before it is launched, so the awaiting coroutine gives up its
        // share with a plain store instead of an RMW. release: the store heads the release
        // sequence the children's arrivals continue, so the last one sees this coroutine's
        // launch writes and, through the acquire above, the early arrivals' results.
        join.remaining.store(count, std::memory_order_release);
        if (count == 2) {
            join.launcher->push_fork(forks[1]);
        } else if (count > 2) {
            join.launcher->push_forks(forks + 1, count - 1);
        }
        return forks[0];
    }
    if (count > 1) {
        join.launcher->push_forks(forks + 1, count - 1);
    }
    const std::coroutine_handle<> first = forks[0];
    // The awaiting coroutine's own share. Never the last: `first` has not run yet.
    join.arrive();
    return first;
}

// The rest of launch_children's fast path, when it calls something: the fork stack was
// full, or an idle worker wants a notice of the fork pushed.
[[gnu::noinline]] std::coroutine_handle<> finish_launch(worker& launcher,
                                                        std::coroutine_handle<> fork,
                                                        worker::fork_push state,
                                                        std::coroutine_handle<> first) noexcept {
    launcher.finish_push_fork(fork, state);
    return first;
}

} // namespace

std::coroutine_handle<> launch_children(gather_join& join, std::coroutine_handle<>* forks,
                                        std::size_t count) noexcept {
    // acquire, release: as in launch_children_in_general.
    if (count == 2 && join.remaining.load(std::memory_order_acquire) == 3) [[likely]] {
        join.remaining.store(2, std::memory_order_release);
        join.last_fork = forks[1];
        // Calls only by a tail call, so that this path saves no registers.
        worker& launcher = *join.launcher;
        const worker::fork_push state = launcher.push_fork_without_call(forks[1]);
        if (state == worker::fork_push::done) [[likely]] {
            return forks[0];
        }
        return finish_launch(launcher, forks[1], state, forks[0]);
    }
    return launch_children_in_general(join, forks, count);
}

} // namespace weft::detail
