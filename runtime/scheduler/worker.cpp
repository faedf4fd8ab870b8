// The worker loop: running, looking for work, stealing and firing timers; see worker.hpp
// for the order in which a worker looks for work, idle.hpp for how it searches and parks,
// and worker_parking.cpp for how it sleeps.
#include "scheduler/worker.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <thread>
#include <utility>

#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/running_strand.hpp>
#include <weft/detail/symmetric_transfer.hpp>

#include "scheduler/runtime.hpp"

namespace weft::detail {

constinit thread_local worker* this_thread_worker = nullptr;

namespace {

// Steal rounds before parking; with the back-off below about 20 to 50 microseconds, long
// enough to bridge the gaps of a producer that spawns steadily, short enough that an idle
// runtime goes to sleep at once on a human scale.
constexpr unsigned search_rounds = 24;
// Steps between two looks at the injector before the worker's own queues (Tokio's
// global_queue_interval is 61): a worker whose tasks keep making more would otherwise never
// reach the tasks queued from outside. Prime, so it rarely falls on the same step as the
// other checks.
constexpr std::uint64_t injector_check_interval = 61;
// Steps between two pops of the FIFO queue before the fork stack: a gather whose children
// keep forking would otherwise keep the tasks woken or spawned meanwhile waiting. Prime,
// like the others, and about half the injector's interval, since local work is cheaper to
// reach and more likely to be waited on.
constexpr std::uint64_t fifo_check_interval = 31;
// Steps between two looks at the clock while timers are pending: a clock read costs about
// 20 ns, a step at least a few.
constexpr std::uint64_t timer_check_interval = 16;
// Steps between two non-blocking polls of the reactor while sockets are open (Tokio's
// event_interval is 61): a poll is a system call of about a microsecond, a step that
// serves a socket a few. Prime, so it rarely falls on the same step as the queue checks.
// A searching worker does not poll: it parks in the poll soon enough, and a searcher that
// polled would keep taking sockets one at a time without ever parking (measured: twice
// the p90 latency under load, docs/benchmarks.md).
constexpr std::uint64_t io_poll_interval = 53;

// Makes the kernel wake this thread within 1 ns of a futex deadline instead of adding its
// default 50 us of slack; restores the previous slack when the worker loop ends (the
// thread that called run() keeps its own setting).
class precise_timer_slack {
public:
    precise_timer_slack() noexcept : previous_(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
        prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    }
    ~precise_timer_slack() {
        if (previous_ > 0) {
            prctl(PR_SET_TIMERSLACK, previous_, 0, 0, 0);
        }
    }
    precise_timer_slack(const precise_timer_slack&) = delete;
    precise_timer_slack& operator=(const precise_timer_slack&) = delete;

private:
    int previous_;
};

// The count a worker of a runtime of `workers` arms itself in before it steals a fork, and
// its fork stack reads: none with one worker (no thieves) or without the heavy fence.
armed_thieves* thieves_to_arm(runtime& owner, std::size_t workers) noexcept {
    return workers > 1 && armed_thieves::available() ? &owner.thieves() : nullptr;
}

std::uint64_t next_random(std::uint64_t& state) noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

} // namespace

worker::worker(runtime& owner, std::size_t id, std::size_t workers) noexcept
    : waker(owner), ready(workers > 1), forks(workers, workers > 1, thieves_to_arm(owner, workers)),
      timers(*this, owner.virtual_time()), id_(id), peers_(workers > 1 ? &owner.idle() : nullptr),
      overflow_(owner.injector()), arming_(thieves_to_arm(owner, workers)),
      timer_check_tick_(timer_check_interval), io_poll_tick_(io_poll_interval),
      injector_check_tick_(injector_check_interval), fifo_check_tick_(fifo_check_interval),
      next_periodic_tick_(std::min(
          {timer_check_interval, io_poll_interval, injector_check_interval, fifo_check_interval})),
      random_(0x9e3779b97f4a7c15ULL * (id + 1)) {}

worker* worker::current() noexcept {
    return this_thread_worker;
}

// Inline into the loop, its only caller: a call here is paid on every step.
[[gnu::always_inline]] inline std::coroutine_handle<> worker::next_local() {
    if (++tick_ == next_periodic_tick_) {
        if (std::coroutine_handle<> next = periodic_checks()) {
            return next;
        }
    }
    if (std::coroutine_handle<> next = forks.pop()) {
        return next;
    }
    if (std::coroutine_handle<> next = ready.pop()) {
        return next;
    }
    return pop_injector();
}

void worker::run() {
    const precise_timer_slack slack;
    this_thread_worker = this;
    keep_canceller_armed(true);
    while (!owner().stopping() && !leave_requested()) {
        std::coroutine_handle<> next = next_local();
        if (!next) {
            if (departed_count_ != 0) {
                unregister_departed();
            }
            if (fire_due_timers()) {
                continue;
            }
            next = search();
        }
        if (!next) {
            disarm_canceller(); // no strand of this runtime should pay for a sleeping worker
            park();
            continue;
        }
        if (searching_) {
            stop_searching();
        }
        count(tasks_run_);
        io_budget_ = io_operations_per_step;
        resumed_ = next;
        // A weft coroutine names its strand as it resumes; anything else runs in none.
        this_thread_strand = nullptr;
        next.resume();
        // A hand-over through the trampoline continues the same step, like the symmetric
        // transfer it stands for: it is not counted as a task run, and nothing else runs
        // before it. In the loop itself, not a call: this is every step's path.
        while (resume_next_) {
            resumed_ = std::exchange(resume_next_, {});
            resumed_.resume();
        }
    }
    forks.return_reserved();
    disarm();
    keep_canceller_armed(false);
    if (departed_count_ != 0) {
        unregister_departed();
    }
    this_thread_worker = nullptr;
    // The strand last resumed may end while this thread is off the runtime (a runner's
    // caller between runs).
    this_thread_strand = nullptr;
}

std::coroutine_handle<> defer_to_trampoline(std::coroutine_handle<> suspending,
                                            std::coroutine_handle<> next) noexcept {
    worker* here = worker::current();
    if (here == nullptr || !here->defer_resume(suspending, next)) {
        return next;
    }
    return std::noop_coroutine();
}

void worker::run_until(const std::atomic<bool>& leave) {
    leave_ = &leave;
    run();
    leave_ = nullptr;
    // A worker counted as searching while out of its loop (a runner's worker 0 between
    // runs) would keep every producer from waking a sleeper.
    if (searching_) {
        stop_searching();
    }
}

void worker::wake(std::coroutine_handle<> handle) noexcept {
    ready.push(handle, overflow_);
}

void worker::push_forks(std::coroutine_handle<>* handles, std::size_t count) {
    forks.push(handles, count);
    notify_others();
}

void worker::notify_peers() {
    owner().notify_work();
}

worker_stats worker::stats() const noexcept {
    // relaxed: a snapshot of single-writer counters.
    return {tasks_run_.load(std::memory_order_relaxed),
            tasks_stolen_.load(std::memory_order_relaxed), parks_.load(std::memory_order_relaxed),
            timers.pending()};
}

bool worker::fire_due_timers() {
    if (timers.pending() == 0) {
        return false;
    }
    const std::size_t fired = timers.fire_due(owner().now_ns());
    if (fired > 1) {
        notify_others();
    }
    return fired != 0;
}

// Each check keeps the step it is next due on; the loop compares against the earliest.
std::coroutine_handle<> worker::periodic_checks() {
    const auto due = [this](std::uint64_t& due_tick, std::uint64_t interval) {
        if (tick_ != due_tick) {
            return false;
        }
        due_tick += interval;
        return true;
    };
    const bool timers_due = due(timer_check_tick_, timer_check_interval);
    const bool io_due = due(io_poll_tick_, io_poll_interval);
    const bool injector_due = due(injector_check_tick_, injector_check_interval);
    const bool fifo_due = due(fifo_check_tick_, fifo_check_interval);
    next_periodic_tick_ =
        std::min({timer_check_tick_, io_poll_tick_, injector_check_tick_, fifo_check_tick_});
    if (timers_due) {
        fire_due_timers();
    }
    if (io_due) {
        poll_io();
    }
    if (injector_due) {
        // A thief that has stolen no fork since the last check has gone back to work of its
        // own: it disarms, and the owners' pops go back to the light fence.
        if (armed_ && !std::exchange(stole_fork_, false)) {
            disarm();
        }
        disarm_idle_canceller(); // the same, for a canceller of forwarding slots

        if (departed_count_ != 0) {
            unregister_departed();
        }
        if (std::coroutine_handle<> next = pop_injector()) {
            return next;
        }
    }
    if (fifo_due) {
        if (std::coroutine_handle<> next = ready.pop()) {
            return next;
        }
    }
    return {};
}

void worker::unregister_departed() noexcept {
    // Copied out first: dropping a reference may destroy a frame, and what its destructors
    // do on this thread may add to the batch.
    std::array<frame_header*, std::tuple_size_v<decltype(departed_)>> batch;
    const std::size_t count = std::exchange(departed_count_, 0);
    std::copy_n(departed_.begin(), count, batch.begin());
    runtime& home = owner();
    home.registry().remove_batch(departed_shard_, batch.data(), count);
    // Unregistered, so the drain's test for its last task goes after (runtime::drain).
    home.task_ended();
    for (std::size_t i = 0; i < count; ++i) {
        // null: the check complete_task left with the finished task (frame_header.hpp).
        release_task(batch[i], nullptr);
    }
}

std::coroutine_handle<> worker::pop_injector() {
    std::array<std::coroutine_handle<>, injector_batch>& batch = from_injector_;
    // One to run now, the rest into the FIFO queue in one go, as many as it has room for.
    const std::size_t taken = owner().injector().pop_batch(
        batch.data(), std::min<std::size_t>(batch.size(), ready.room() + 1));
    if (taken == 0) {
        return {};
    }
    if (taken > 1) {
        ready.push_batch(batch.data() + 1, static_cast<std::uint32_t>(taken - 1));
        notify_others();
    }
    return batch[0];
}

std::coroutine_handle<> worker::search() {
    if (owner().worker_count() == 1) {
        return {}; // nobody to steal from; the injector was just checked
    }
    if (!searching_) {
        searching_ = owner().idle().try_begin_searching();
        if (!searching_) {
            return {};
        }
    }
    for (unsigned round = 0; round < search_rounds; ++round) {
        // The search may outlast a deadline of this worker's own: a timer that comes due
        // meanwhile is served at once rather than after the search.
        if (fire_due_timers()) {
            return ready.pop();
        }
        if (std::coroutine_handle<> next = steal_once()) {
            return next;
        }
        if (std::coroutine_handle<> next = pop_injector()) {
            return next;
        }
        if (owner().stopping()) {
            return {};
        }
        // With sockets open, every back-off yields instead of spinning: what the runtime
        // waits for is then often another thread of this machine (a client, the kernel's
        // network work), and a spin that keeps its CPU from it makes the wait longer (an
        // echo round trip 3 to 5 times slower at 2 workers, docs/benchmarks.md). A yield
        // with nobody else to run returns at once, so the search still looks as often.
        if (round % 8 == 7 || owner().reactor().in_use()) {
            std::this_thread::yield();
        } else {
            for (unsigned spin = 0; spin < (32u << (round % 8)); ++spin) {
                cpu_relax();
            }
        }
    }
    return {};
}

std::coroutine_handle<> worker::steal_once() {
    const std::size_t workers = owner().worker_count();
    if (workers == 1) {
        return {};
    }
    const std::size_t start = next_random(random_) % workers;
    for (std::size_t i = 0; i < workers; ++i) {
        const std::size_t victim_id = (start + i) % workers;
        if (victim_id == id_) {
            continue;
        }
        worker& victim = owner().worker_at(victim_id);
        if (!victim.forks.empty() && arm()) {
            if (std::coroutine_handle<> next = victim.forks.steal()) {
                stole_fork_ = true;
                count(tasks_stolen_);
                return next;
            }
        }
        std::uint64_t stolen = 0;
        if (std::coroutine_handle<> next = victim.ready.steal_into(ready, stolen)) {
            count(tasks_stolen_, stolen);
            if (stolen > 1) {
                owner().notify_work();
            }
            return next;
        }
    }
    return {};
}

bool worker::arm() noexcept {
    if (armed_ || arming_ == nullptr) {
        return true; // armed already, or the fork stacks always fence
    }
    armed_ = arming_->arm();
    return armed_;
}

void worker::disarm() noexcept {
    if (armed_) {
        armed_ = false;
        arming_->disarm();
    }
}

void worker::stop_searching() {
    searching_ = false;
    if (owner().idle().end_searching()) {
        // The last searcher found work; there may be more, so keep someone looking.
        owner().notify_work();
    }
}

} // namespace weft::detail
