// The worker loop; see worker.hpp for the order in which a worker looks for work and
// idle.hpp for how it searches and parks.
#include "scheduler/worker.hpp"

#include <sys/prctl.h>

#include <array>
#include <thread>
#include <utility>

#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/symmetric_transfer.hpp>

#include "scheduler/runtime.hpp"

namespace weft::detail {
namespace {

thread_local worker* this_thread_worker = nullptr;

// Steal rounds before parking; with the back-off below about 20 to 50 microseconds, long
// enough to bridge the gaps of a producer that spawns steadily, short enough that an idle
// runtime goes to sleep at once on a human scale.
constexpr unsigned search_rounds = 24;
constexpr std::size_t injector_batch = 32;
// Steps between two looks at the clock while timers are pending: a clock read costs about
// 20 ns, a step at least a few.
constexpr std::uint32_t timer_check_interval = 16;
// Steps between two non-blocking polls of the reactor while sockets are open (Tokio's
// event_interval is 61): a poll is a system call of about a microsecond, a step that
// serves a socket a few. Prime, so it rarely falls on the same step as the queue checks.
// A searching worker does not poll: it parks in the poll soon enough, and a searcher that
// polled would keep taking sockets one at a time without ever parking (measured: twice
// the p90 latency under load, docs/benchmarks.md).
constexpr std::uint32_t io_poll_interval = 53;
// A futex wake-up arrives tens of microseconds after its deadline on a virtual machine, so a
// worker sleeps until this long before its next timer and spins on the clock for the rest:
// at most 80 us of CPU per timer that finds the worker idle.
constexpr std::uint64_t spin_before_deadline_ns = 80'000;

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

std::uint64_t next_random(std::uint64_t& state) noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

} // namespace

worker::worker(runtime& owner, std::size_t id) noexcept
    : owner_(owner), id_(id), random_(0x9e3779b97f4a7c15ULL * (id + 1)) {}

worker* worker::current() noexcept {
    return this_thread_worker;
}

void worker::run() {
    const precise_timer_slack slack;
    this_thread_worker = this;
    while (!owner_.stopping() && !leave_requested()) {
        std::coroutine_handle<> next = next_local();
        if (!next) {
            if (fire_due_timers()) {
                continue;
            }
            next = search();
        }
        if (!next) {
            park();
            continue;
        }
        if (searching_) {
            stop_searching();
        }
        count(tasks_run_);
        resumed_ = next;
        next.resume();
        // A hand-over through the trampoline continues the same step, like the symmetric
        // transfer it stands for: it is not counted as a task run, and nothing else runs
        // before it. In the loop itself, not a call: this is every step's path.
        while (resume_next_) {
            resumed_ = std::exchange(resume_next_, {});
            resumed_.resume();
        }
    }
    this_thread_worker = nullptr;
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
}

void worker::push_ready(std::coroutine_handle<> handle) {
    ready.push(handle, owner_.injector());
    notify_others();
}

void worker::push_woken(std::coroutine_handle<> handle) {
    ready.push(handle, owner_.injector());
}

void worker::push_forks(std::coroutine_handle<>* handles, std::size_t count) {
    forks.push(handles, count);
    notify_others();
}

void worker::notify_others() {
    // A lone worker is running, so it will find what it queued itself.
    if (owner_.worker_count() > 1) {
        owner_.notify_work();
    }
}

worker_stats worker::stats() const noexcept {
    // relaxed: a snapshot of single-writer counters.
    return {tasks_run_.load(std::memory_order_relaxed),
            tasks_stolen_.load(std::memory_order_relaxed), parks_.load(std::memory_order_relaxed),
            timer_count_.load(std::memory_order_relaxed)};
}

bool worker::add_timer(timer_entry& entry, strand_word* strand, cancel_target* target) {
    timers_lock_.lock();
    if (strand != nullptr && !publish_target(*strand, *target)) {
        timers_lock_.unlock();
        return false;
    }
    timers_.insert(entry);
    publish_next_timer();
    timers_lock_.unlock();
    return true;
}

bool worker::cancel_timer(timer_entry& entry) noexcept {
    timers_lock_.lock();
    const bool was_pending = timer_wheel::pending(entry);
    if (was_pending) {
        timers_.cancel(entry);
        publish_next_timer();
    }
    timers_lock_.unlock();
    return was_pending;
}

bool worker::fire_due_timers() {
    // relaxed: a hint; the wheel itself is read under the lock.
    if (timer_count_.load(std::memory_order_relaxed) == 0) {
        return false;
    }
    timers_lock_.lock();
    const std::size_t fired = timers_.advance(owner_.now_ns());
    publish_next_timer();
    timers_lock_.unlock();
    if (fired > 1) {
        notify_others();
    }
    return fired != 0;
}

void worker::publish_next_timer() noexcept {
    // relaxed: read without the lock only as a hint (fire_due_timers).
    timer_count_.store(timers_.size(), std::memory_order_relaxed);
    if (!owner_.virtual_time()) {
        return; // only the virtual clock reads it; real time is each worker's own business
    }
    // seq_cst: see published_next_timer().
    next_timer_.store(timers_.next_deadline().value_or(no_timer), std::memory_order_seq_cst);
}

std::optional<std::uint64_t> worker::next_deadline() noexcept {
    timers_lock_.lock();
    const std::optional<std::uint64_t> deadline = timers_.next_deadline();
    timers_lock_.unlock();
    return deadline;
}

std::coroutine_handle<> worker::next_local() {
    ++tick_;
    if (tick_ % timer_check_interval == 0) {
        fire_due_timers();
    }
    if (tick_ % io_poll_interval == 0) {
        poll_io();
    }
    if (tick_ % 61 == 0) {
        if (std::coroutine_handle<> next = pop_injector()) {
            return next;
        }
    }
    if (tick_ % 31 == 0) {
        if (std::coroutine_handle<> next = ready.pop()) {
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

std::coroutine_handle<> worker::pop_injector() {
    std::array<std::coroutine_handle<>, injector_batch> batch;
    const std::size_t taken = owner_.injector().pop_batch(batch.data(), batch.size());
    if (taken == 0) {
        return {};
    }
    for (std::size_t i = 1; i < taken; ++i) {
        ready.push(batch[i], owner_.injector());
    }
    if (taken > 1) {
        notify_others();
    }
    return batch[0];
}

std::coroutine_handle<> worker::search() {
    if (owner_.worker_count() == 1) {
        return {}; // nobody to steal from; the injector was just checked
    }
    if (!searching_) {
        searching_ = owner_.idle().try_begin_searching();
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
        if (owner_.stopping()) {
            return {};
        }
        // With sockets open, every back-off yields instead of spinning: what the runtime
        // waits for is then often another thread of this machine (a client, the kernel's
        // network work), and a spin that keeps its CPU from it makes the wait longer (an
        // echo round trip 3 to 5 times slower at 2 workers, docs/benchmarks.md). A yield
        // with nobody else to run returns at once, so the search still looks as often.
        if (round % 8 == 7 || owner_.reactor().in_use()) {
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
    const std::size_t workers = owner_.worker_count();
    if (workers == 1) {
        return {};
    }
    const std::size_t start = next_random(random_) % workers;
    for (std::size_t i = 0; i < workers; ++i) {
        const std::size_t victim_id = (start + i) % workers;
        if (victim_id == id_) {
            continue;
        }
        worker& victim = owner_.worker_at(victim_id);
        if (std::coroutine_handle<> next = victim.forks.steal()) {
            count(tasks_stolen_);
            return next;
        }
        std::uint64_t stolen = 0;
        if (std::coroutine_handle<> next = victim.ready.steal_into(ready, stolen)) {
            count(tasks_stolen_, stolen);
            if (stolen > 1) {
                owner_.notify_work();
            }
            return next;
        }
    }
    return {};
}

void worker::stop_searching() {
    searching_ = false;
    if (owner_.idle().end_searching()) {
        // The last searcher found work; there may be more, so keep someone looking.
        owner_.notify_work();
    }
}

void worker::park() {
    const bool nobody_awake = owner_.idle().enter_sleep(id_, searching_);
    searching_ = false;
    // The re-check after listing ourselves asleep (see idle.hpp).
    if (owner_.stopping() || leave_requested() || owner_.has_visible_work()) {
        leave_sleep_or_take_wake_up();
        return;
    }
    reactor& io = owner_.reactor();
    if (io.in_use() && io.try_drive_to_park()) {
        park_polling(nobody_awake);
        return;
    }
    if (owner_.virtual_time()) {
        // Time moves only when every worker is idle: the last one to sleep moves it to the
        // earliest deadline and wakes the worker whose timer that is.
        if (nobody_awake) {
            if (const std::optional<std::size_t> due = owner_.advance_virtual_time()) {
                if (*due == id_) {
                    leave_sleep_or_take_wake_up();
                    return;
                }
                owner_.wake_worker(*due);
            }
        }
        sleep_until_woken();
        return;
    }
    if (const std::optional<std::uint64_t> deadline = next_deadline()) {
        count(parks_);
        if (*deadline > monotonic_ns() + spin_before_deadline_ns) {
            if (sleeper.park_until(*deadline - spin_before_deadline_ns)) {
                searching_ = true; // a producer claimed us (or stop() woke us)
                return;
            }
        }
        leave_sleep_or_take_wake_up();
        spin_until(*deadline);
        return;
    }
    sleep_until_woken();
}

void worker::park_polling(bool nobody_awake) {
    reactor& io = owner_.reactor();
    if (owner_.virtual_time()) {
        // Time may jump only if no socket is ready: a peer's data already in the kernel
        // comes before the next timer, as it would in real time.
        io.wait_until(0);
        if (const std::size_t woken = io.dispatch(*this); woken != 0) {
            io.stop_driving();
            leave_sleep_or_take_wake_up();
            if (woken > 1) {
                notify_others();
            }
            return;
        }
        if (nobody_awake) {
            if (const std::optional<std::size_t> due = owner_.advance_virtual_time()) {
                if (*due == id_) {
                    io.stop_driving();
                    leave_sleep_or_take_wake_up();
                    return;
                }
                owner_.wake_worker(*due);
            }
        }
        poll_until(interruptible_wait::no_deadline);
        return;
    }
    const std::optional<std::uint64_t> deadline = next_deadline();
    if (!deadline) {
        poll_until(interruptible_wait::no_deadline);
        return;
    }
    // As in park(): wake early and spin for the last stretch, unless the poll brought work.
    const std::uint64_t now = monotonic_ns();
    const std::uint64_t wake_at =
        *deadline > now + spin_before_deadline_ns ? *deadline - spin_before_deadline_ns : 0;
    if (!poll_until(wake_at)) {
        spin_until(*deadline);
    }
}

bool worker::poll_until(std::uint64_t deadline) {
    reactor& io = owner_.reactor();
    count(parks_);
    const bool woken = sleeper.park_in(io, deadline);
    const std::size_t ready_now = io.dispatch(*this);
    io.stop_driving();
    if (woken) {
        searching_ = true; // a producer claimed us (or stop() woke us)
    } else {
        leave_sleep_or_take_wake_up();
    }
    if (ready_now > 1) {
        notify_others();
    }
    return woken || ready_now != 0;
}

void worker::poll_io() {
    reactor& io = owner_.reactor();
    if (io.in_use() && io.poll_if_free(*this) > 1) {
        notify_others();
    }
}

void worker::spin_until(std::uint64_t deadline) {
    while (monotonic_ns() < deadline && !owner_.stopping() && !leave_requested() &&
           !owner_.has_visible_work()) {
        cpu_relax();
    }
}

void worker::sleep_until_woken() {
    count(parks_);
    sleeper.park();
    // A producer that wakes us counts us as searching (stop() ends the loop instead).
    searching_ = true;
}

void worker::leave_sleep_or_take_wake_up() {
    if (owner_.idle().leave_sleep(id_)) {
        return;
    }
    // A producer claimed us meanwhile; take its wake-up token and go on searching.
    sleeper.park();
    searching_ = true;
}

} // namespace weft::detail
