// The runtime's signals: one signalfd for the signals the runtime watches, attached to the
// reactor with an event handler of its own, and the count of deliveries of each signal.
//
// A signalfd sees a signal only while the signal is blocked in every thread that could
// otherwise take it. The runtime's source is made on the thread that called run, before
// the workers start, and blocks the watched signals there, so every worker and blocking
// thread (started from those) inherits the mask; its destructor, on the same thread after
// they are all joined, reads and discards what is still pending and restores the thread's
// mask. The dispositions are left alone.
//
// On each readable edge the reactor's driver reads the descriptor until EAGAIN and, for
// each signal read, raises that signal's count and wakes every task waiting on it
// (io_readiness: the count is raised and the waiters taken under one lock, and a waiter
// re-reads the count before linking itself, so none misses a delivery). A SIGINT that woke
// no task while no signal_listener of SIGINT was alive goes to the interrupt handler
// instead, if there is one (run's Ctrl-C handling): a listener made and not yet awaited has
// taken the signal over, as asyncio's add_signal_handler does when it is called.
#pragma once

#include <signal.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "io/io_source.hpp"
#include "io/reactor.hpp"

namespace weft::detail {

// Throws weft::signal_error, naming `what`, for a number that is not a signal weft can
// wait for: out of range, SIGKILL or SIGSTOP, or a fault raised by an instruction.
void check_signal_number(int signo, const char* what);

// Ends the process as the default action of `signo` does (terminating it, and for SIGINT
// as an interrupted program): restores the default disposition, unblocks the signal in
// this thread and raises it.
[[noreturn]] void end_process_by(int signo) noexcept;

// Called by the driver for a SIGINT that no task was waiting or listening for.
struct interrupt_handler {
    void (*on_interrupt)(void* context) noexcept = nullptr;
    void* context = nullptr;
};

// One watched signal: the count of its deliveries, with its waiters, and how many
// signal_listeners of it are alive.
struct signal_deliveries {
    io_readiness readiness;
    std::atomic<std::size_t> listeners{0};
};

class signal_source {
public:
    // Blocks `signals` in the calling thread and watches them; none of them if empty.
    // Throws std::system_error if the kernel refuses the signalfd.
    signal_source(reactor& events, const std::vector<int>& signals, interrupt_handler interrupt);
    signal_source(const signal_source&) = delete;
    signal_source& operator=(const signal_source&) = delete;
    ~signal_source();

    // The deliveries of `signo`, or null if the runtime does not watch it.
    signal_deliveries* deliveries(int signo) noexcept;

private:
    static std::size_t on_event(void* context, io_source& source, waker& driver) noexcept;
    std::size_t read_pending(waker& driver) noexcept;

    sigset_t watched_;
    sigset_t previous_mask_;
    int fd_ = -1;
    io_source* source_ = nullptr;
    const interrupt_handler interrupt_;
    // Indexed by signal number; one count for each watched signal.
    std::array<std::unique_ptr<signal_deliveries>, _NSIG> deliveries_;
};

// The signal source of the runtime whose worker runs on this thread; throws
// weft::runtime_error naming `what` on any other thread. Defined by the scheduler
// (scheduler/layer_hooks.cpp).
[[gnu::noinline]] signal_source& require_running_signal_source(const char* what);

} // namespace weft::detail
