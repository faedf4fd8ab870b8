// weft::runner's compiled half: choosing the worker count, refusing options out of range,
// refusing a run or close from a thread running a runtime, from two threads at once, or
// after close; and the watched signals' mask of each thread that acts as worker 0: the
// maker's blocks them from construction to close, any other's only during its call.
//
// busy_ makes run() and close() exclusive: the thread that sets it is worker 0's only
// driver until it clears it, and the runtime is made and destroyed only under it (or in the
// constructor, before anyone else can see the runner).
#include <weft/errors.hpp>
#include <weft/runner.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "io/signal_source.hpp"
#include "scheduler/runtime.hpp"

namespace weft {

namespace {

// Refuses options that cannot work before anything starts. A negative count converted to
// size_t lands far above max_workers; a negative duration would be read as a huge unsigned
// one (a negative grace once made shutdown wait forever for a straggler).
void validate(const run_options& options, const std::string& name) {
    if (options.workers > max_workers) {
        throw invalid_argument(name + ": run_options::workers is " +
                               std::to_string(options.workers) + "; at most " +
                               std::to_string(max_workers) + " (0 means one per CPU)");
    }
    if (options.shutdown_grace < std::chrono::nanoseconds::zero()) {
        throw invalid_argument(name + ": run_options::shutdown_grace is negative (" +
                               std::to_string(options.shutdown_grace.count()) +
                               " ns); zero ends the drain at once");
    }
    if (options.max_blocking_threads == 0) {
        throw invalid_argument(name + ": run_options::max_blocking_threads must be at least 1");
    }
    if (options.blocking_keep_alive < std::chrono::nanoseconds::zero()) {
        throw invalid_argument(name + ": run_options::blocking_keep_alive is negative (" +
                               std::to_string(options.blocking_keep_alive.count()) +
                               " ns); zero ends an idle pool thread at once");
    }
    for (const int signo : options.signals) {
        detail::check_signal_number(signo, (name + ": run_options::signals").c_str());
    }
}

// Blocks `signals` in this thread and restores the thread's mask on leaving; does nothing
// for null (the thread that made the runner, which blocks them from construction to close).
class signals_blocked_here {
public:
    explicit signals_blocked_here(const std::vector<int>* signals) noexcept
        : active_(signals != nullptr) {
        if (!active_) {
            return;
        }
        sigset_t blocked;
        sigemptyset(&blocked);
        for (const int signo : *signals) {
            sigaddset(&blocked, signo);
        }
        pthread_sigmask(SIG_BLOCK, &blocked, &saved_);
    }
    ~signals_blocked_here() {
        if (active_) {
            pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
        }
    }
    signals_blocked_here(const signals_blocked_here&) = delete;
    signals_blocked_here& operator=(const signals_blocked_here&) = delete;

private:
    bool active_;
    sigset_t saved_;
};

// Holds busy_ for one run() or close(); throws weft::runtime_error, naming `call` (the
// messages are built only then: run() is on the path benchmarked), with `refusal` if
// another thread holds it.
class exclusive_use {
public:
    exclusive_use(std::atomic<bool>& busy, const char* name, const char* call, const char* refusal)
        : busy_(busy) {
        // acquire: pairs with the release below, so this thread sees all that the last
        // run() or close() did to the runtime, worker 0's state included.
        if (busy_.exchange(true, std::memory_order_acquire)) {
            throw runtime_error(std::string(name) + call + refusal);
        }
    }
    ~exclusive_use() {
        // release: see the constructor.
        busy_.store(false, std::memory_order_release);
    }
    exclusive_use(const exclusive_use&) = delete;
    exclusive_use& operator=(const exclusive_use&) = delete;

private:
    std::atomic<bool>& busy_;
};

void refuse_on_a_runtime_thread(const char* name, const char* call) {
    if (detail::worker::current() != nullptr) {
        throw runtime_error(std::string(name) + call +
                            "() cannot be called from a thread that is running a weft runtime");
    }
}

} // namespace

runner::runner(run_options options) : runner(options, "weft::runner") {}

runner::runner(const run_options& options, const char* name)
    : name_(name), maker_(std::this_thread::get_id()) {
    validate(options, name_);
    const std::size_t workers = options.workers != 0
                                    ? options.workers
                                    : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    // The runtime's signal source blocks the watched signals in this thread until it is
    // destroyed, so the workers start with them blocked.
    runtime_ = std::make_unique<detail::runtime>(workers, options, name_);
    runtime_->start();
}

runner::~runner() {
    close();
}

const std::vector<int>* runner::signals_to_block_here() const noexcept {
    return std::this_thread::get_id() == maker_ ? nullptr : &runtime_->watched_signals();
}

void runner::run_frame(detail::frame_header* main, std::coroutine_handle<> handle) {
    refuse_on_a_runtime_thread(name_, "::run");
    const exclusive_use claimed(busy_, name_, "::run",
                                ": another thread is running or closing this runner; run() "
                                "calls must not overlap");
    if (!runtime_) {
        throw runtime_error(std::string(name_) + "::run: the runner is closed");
    }
    const signals_blocked_here blocked(signals_to_block_here());
    runtime_->run_main(main, handle);
}

void runner::close() {
    refuse_on_a_runtime_thread(name_, "::close");
    const exclusive_use claimed(busy_, name_, "::close",
                                ": another thread is running this runner; close it after run() "
                                "has returned");
    if (!runtime_) {
        return;
    }
    // On another thread than the maker, the signal source's destructor sets the maker's old
    // mask here; this thread's own is put back after it.
    const signals_blocked_here blocked(signals_to_block_here());
    runtime_->shut_down();
    runtime_.reset();
}

} // namespace weft
