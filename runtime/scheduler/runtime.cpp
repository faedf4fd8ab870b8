// The runtime object: start, stop and teardown; see runtime.hpp.
#include "scheduler/runtime.hpp"

#include <signal.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <weft/any_task.hpp>
#include <weft/detail/cancel_record.hpp>
#include <weft/detail/waiter_list.hpp>

#include "scheduler/task_identity.hpp"
#include "task/context_in_use.hpp"

namespace weft::detail {

namespace {

std::vector<int> signals_to_watch(const run_options& options) {
    std::vector<int> watched = options.signals;
    if (options.interrupt_cancels_main) {
        watched.push_back(SIGINT);
    }
    return watched;
}

} // namespace

runtime::runtime(std::size_t workers, const run_options& options, const char* name)
    : watched_(signals_to_watch(options)),
      signals_(reactor_, watched_,
               options.interrupt_cancels_main ? interrupt_handler{&runtime::on_interrupt, this}
                                              : interrupt_handler{}),
      idle_(workers), registry_(workers), shutdown_grace_(options.shutdown_grace), name_(name),
      exception_handler_(options.exception_handler), virtual_time_(options.virtual_time),
      blocking_(options.virtual_time ? this : nullptr, options.max_blocking_threads,
                options.blocking_keep_alive, options.shutdown_grace),
      gate_(std::make_shared<runtime_gate>(*this)) {
    workers_.reserve(workers);
    for (std::size_t id = 0; id < workers; ++id) {
        workers_.push_back(std::make_unique<worker>(*this, id, workers));
    }
}

runtime::~runtime() {
    if (!threads_.empty()) {
        stop_and_join();
    }
}

namespace {

// Wakes no coroutine: the main task's end sends worker 0 out of its loop to shut down.
struct leave_when_done : waiter_node {
    leave_when_done(runtime& owner, std::atomic<bool>& main_done)
        : owner(owner), main_done(main_done) {
        wake = &on_done;
    }
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<leave_when_done&>(node);
        // seq_cst: worker 0 reads it in its parking re-check (see worker::park).
        self.main_done.store(true, std::memory_order_seq_cst);
        // The node lives until run_main takes it back from main's waiters, which waits for
        // this wake to end.
        self.owner.wake_worker(0);
    }
    runtime& owner;
    std::atomic<bool>& main_done;
};

// The names of the first few, so that the report says which tasks ignored the cancellation.
std::string straggler_names(const std::vector<any_task>& stragglers) {
    constexpr std::size_t named = 8;
    std::string names;
    for (std::size_t i = 0; i < stragglers.size() && i < named; ++i) {
        names += (i == 0 ? "" : ", ") + stragglers[i].name();
    }
    if (stragglers.size() > named) {
        names += ", ...";
    }
    return names;
}

void report_stragglers(const char* name, const std::vector<any_task>& stragglers,
                       std::chrono::nanoseconds grace) {
    const std::size_t count = stragglers.size();
    std::fprintf(stderr,
                 "%s: %zu task%s still pending %.3f s after shutdown cancelled %s (%s); "
                 "destroying %s without resuming %s\n",
                 name, count, count == 1 ? " was" : "s were",
                 std::chrono::duration<double>(grace).count(), count == 1 ? "it" : "them",
                 straggler_names(stragglers).c_str(), count == 1 ? "it" : "them",
                 count == 1 ? "it" : "them");
}

} // namespace

void runtime::start() {
    try {
        for (std::size_t id = 1; id < workers_.size(); ++id) {
            threads_.emplace_back([this, id] { workers_[id]->run(); });
        }
    } catch (...) {
        stop_and_join();
        throw;
    }
}

void runtime::run_main(frame_header* main, std::coroutine_handle<> handle) {
    {
        const std::lock_guard guard(main_mutex_);
        main_ = main;
        interrupts_ = 0;
    }
    // seq_cst: as every access of main_done_; the last run left it set. No wake of the last
    // run's stopper is still running: that run took its stopper back.
    main_done_.store(false, std::memory_order_seq_cst);
    leave_when_done stopper(*this, main_done_);
    main->waiters.enqueue(stopper);
    // launch() without its notify: worker 0 runs main at once, and a worker woken to
    // steal it would only move main off this thread.
    // The frame is not shared yet; the push's release publishes the count.
    main->set_references(2);
    // On the calling thread, off any strand: main starts with a copy of its context.
    inherit_context(main->task_strand());
    registry_.add(main, 0);
    workers_[0]->wake(handle);
    workers_[0]->run_until(main_done_);
    // Main has ended: this returns once its completion, and so the stopper's wake, is over.
    main->waiters.remove(stopper);
    {
        const std::lock_guard guard(main_mutex_);
        main_ = nullptr;
    }
    // What main left queued on worker 0 would wait for the next run: a woken worker steals it.
    if (!workers_[0]->ready.empty() || !workers_[0]->forks.empty()) {
        notify_work();
    }
}

void runtime::shut_down() {
    gate_->close();
    drain();
    blocking_.close();
    stop_and_join();
    teardown();
}

void runtime::stop_and_join() noexcept {
    stop();
    for (std::thread& thread : threads_) {
        thread.join();
    }
    threads_.clear();
}

// Cancels every pending task and lets worker 0 work with the others until they have all
// ended or the grace has passed. No task is lost between the two halves: draining_ is set
// before the registry is read, and a task that ends reads draining_ after unregistering
// itself, so either this thread sees the registry empty or that task sees the drain (all
// four operations are seq_cst), and then end_drain sets drain_over_ and wakes worker 0.
// Then, as asyncio's shutdown_asyncgens, the generators still suspended are closed, each in
// a task of its own, and waited for the same way.
void runtime::drain() {
    draining_.store(true, std::memory_order_seq_cst);
    // Counted, as asyncio.run's task.cancel() is (task::cancelling()).
    registry_.for_each([](frame_header* task) { cancel_task(*task, nullptr); });
    if (!wait_for_tasks()) {
        return;
    }
    const std::vector<generator_node*> suspended = generators_.claim_suspended();
    if (suspended.empty()) {
        return;
    }
    for (generator_node* node : suspended) {
        frame_header* closer = node->make_finalizer(*node);
        launch(closer, std::coroutine_handle<>::from_address(closer->frame()), 1,
               workers_[0].get());
    }
    wait_for_tasks();
}

// A task that saw the registry empty may set drain_over_ late: after an earlier wait ended,
// or once the generators' closing tasks are registered. So every time worker 0 leaves its
// loop, the flag is taken back and the registry checked again; the exchange reads the last
// end's store, so that task's unregistering happens before the check.
bool runtime::wait_for_tasks() {
    if (registry_.empty()) {
        return true;
    }
    const std::uint64_t now = now_ns();
    // Not negative: run_main refuses a negative grace. One that reaches the end of the
    // clock's range never passes.
    const auto grace = static_cast<std::uint64_t>(shutdown_grace_.count());
    drain_deadline_.owner = this;
    drain_deadline_.deadline = grace >= clock_end_ns - now ? clock_end_ns : now + grace;
    drain_deadline_.fire = [](timer_entry& entry) noexcept {
        static_cast<drain_deadline&>(entry).owner->end_drain();
    };
    workers_[0]->timers.add(drain_deadline_);
    do {
        workers_[0]->run_until(drain_over_);
        // seq_cst: see above, and drain_over_'s other accesses.
        drain_over_.exchange(false, std::memory_order_seq_cst);
    } while (!registry_.empty() && now_ns() < drain_deadline_.deadline);
    workers_[0]->timers.cancel(drain_deadline_);
    if (const std::vector<any_task> stragglers = pending_tasks(*this, true); !stragglers.empty()) {
        report_stragglers(name_, stragglers, shutdown_grace_);
        return false;
    }
    return true;
}

void runtime::end_drain() {
    // seq_cst: worker 0 reads it in its parking re-check.
    drain_over_.store(true, std::memory_order_seq_cst);
    wake_worker(0);
}

void runtime::on_interrupt(void* self) noexcept {
    auto& owner = *static_cast<runtime*>(self);
    const std::lock_guard guard(owner.main_mutex_);
    // seq_cst: as every access of main_done_; a main that ended has nothing left to cancel,
    // and between runs there is no main.
    if (owner.main_ == nullptr || ++owner.interrupts_ > 1 ||
        owner.main_done_.load(std::memory_order_seq_cst)) {
        end_process_by(SIGINT);
    }
    request_cancel(owner.main_->task_strand());
}

void runtime::stop() noexcept {
    // seq_cst: see stopping().
    stopping_.store(true, std::memory_order_seq_cst);
    for (auto& each : workers_) {
        each->sleeper.unpark();
    }
}

void runtime::inject(std::coroutine_handle<> handle) {
    injector_.push(handle);
    notify_work();
}

void runtime::notify_work() {
    if (const std::optional<std::size_t> id = idle_.claim_sleeper()) {
        workers_[*id]->sleeper.unpark();
    }
}

std::optional<std::size_t> runtime::advance_virtual_time() noexcept {
    // After the caller's enter_sleep; see blocking_pool::calls_in_flight for the pairing.
    if (blocking_.calls_in_flight()) {
        return std::nullopt;
    }
    static_assert(clock_end_ns < timer_driver::no_timer);
    std::optional<std::size_t> owner;
    std::uint64_t earliest = clock_end_ns; // a timer there never fires
    for (const auto& each : workers_) {
        const std::uint64_t deadline = each->timers.published_next_deadline();
        if (deadline < earliest) {
            earliest = deadline;
            owner = each->id();
        }
    }
    if (owner) {
        // relaxed read, release store: only the last idle worker moves the clock; the
        // release lets a worker that reads the new time see the decision that led to it.
        if (earliest > virtual_now_.load(std::memory_order_relaxed)) {
            virtual_now_.store(earliest, std::memory_order_release);
        }
    }
    return owner;
}

void runtime::wake_worker(std::size_t id) {
    if (idle_.claim(id)) {
        workers_[id]->sleeper.unpark();
    }
}

bool runtime::has_visible_work() const noexcept {
    if (!injector_.empty()) {
        return true;
    }
    for (const auto& each : workers_) {
        if (!each->ready.empty() || !each->forks.empty()) {
            return true;
        }
    }
    return false;
}

void runtime::teardown() {
    injector_.close();
    for (auto& each : workers_) {
        each->ready.clear();
        each->forks.clear();
    }
    registry_.drain([](frame_header* header) {
        // A canceller on another thread (task::cancel) may be interrupting the task: it
        // finishes first, and later ones find the strand ended. A pending request has nobody
        // to end cancelled: the frame is destroyed unresumed.
        static_cast<void>(end_strand(header->task_strand()));
        destroy_task_frame(std::coroutine_handle<>::from_address(header->frame()));
    });
    // After the tasks: a call running may be waiting for a spawned task's std::future,
    // which destroying a straggler completes. Its completion finds no awaiter left.
    blocking_.shut_down();
}

} // namespace weft::detail
