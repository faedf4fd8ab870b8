// weft::signal_received and weft::signal_listener: wait for a POSIX signal inside the
// runtime (asyncio's loop.add_signal_handler), delivered through the reactor by a signalfd.
//
//     int main() { return weft::run(server(), {.signals = {SIGTERM, SIGHUP}}); }
//
//     co_await weft::signal_received(SIGTERM);      // the next SIGTERM after this call
//
//     weft::signal_listener hangups(SIGHUP);        // counts from here; misses none
//     for (;;) {
//         co_await hangups.next();
//         reload_configuration();
//     }
//
// The runtime watches the signals run_options::signals names (and SIGINT with
// run_options::interrupt_cancels_main): run blocks them in the thread that calls it before
// the workers start, so every thread of the runtime inherits the mask, and restores the
// mask when it returns. A thread the program started itself must block them too, or the
// kernel may run the signal's disposition on it (for SIGTERM: end the process). Signals
// sent to the process (kill(getpid(), SIGTERM), a terminal's Ctrl-C, systemd) arrive;
// one sent to a single thread (raise, pthread_kill) reaches only a read on that thread.
//
// A delivery wakes every task waiting for that signal when it is read (each waiter gets the
// next delivery, as every handler asyncio registered would run). A delivery nobody waits
// for is counted and otherwise dropped, except by a listener, which remembers that one
// came. The kernel merges a signal sent again before it was read into one delivery.
// With run_options::interrupt_cancels_main, a SIGINT taken by a waiter, or arriving while a
// listener of SIGINT (signal_received's included) is alive, does not cancel main.
// Cancelling a waiting task ends its wait at once with cancelled_error.
#pragma once

#include <cstdint>

#include <weft/coro.hpp>

namespace weft {

namespace detail {
struct signal_deliveries;
}

// Counts the deliveries of one signal from its construction: next() resumes once a
// delivery came that an earlier next() did not consume (several since then count as one).
// Made and used inside the runtime it belongs to, by one task at a time.
class signal_listener {
public:
    // Throws weft::signal_error if `signo` is not a signal number, is SIGKILL, SIGSTOP or
    // a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), or is not watched by the
    // running runtime (run_options::signals); weft::runtime_error outside a runtime.
    explicit signal_listener(int signo);
    // Moving hands the count over; the moved-from listener may only be destroyed.
    signal_listener(signal_listener&& other) noexcept;
    signal_listener& operator=(signal_listener&& other) noexcept;
    ~signal_listener();

    // Resumes once a delivery came since the last one consumed; it consumes them all.
    coro<> next();

    int signal_number() const noexcept { return signo_; }

private:
    friend coro<> signal_received(int signo);
    signal_listener(int signo, const char* what);

    int signo_;
    detail::signal_deliveries* deliveries_;
    std::uint64_t consumed_;
};

// Resumes at the first delivery of `signo` after this call; throws as signal_listener does,
// when called.
coro<> signal_received(int signo);

} // namespace weft
