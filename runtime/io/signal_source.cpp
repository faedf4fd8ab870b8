// The runtime's signalfd and its deliveries; the design is in signal_source.hpp.
#include "io/signal_source.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <weft/errors.hpp>

namespace weft::detail {
namespace {

std::string describe(int signo) {
    const char* name = signo > 0 && signo < _NSIG ? sigabbrev_np(signo) : nullptr;
    return std::to_string(signo) + (name != nullptr ? std::string(" (SIG") + name + ")" : "");
}

} // namespace

void check_signal_number(int signo, const char* what) {
    if (signo < 1 || signo > SIGRTMAX) {
        throw signal_error(std::string(what) + ": " + std::to_string(signo) +
                           " is not a signal number (1 to " + std::to_string(SIGRTMAX) + ")");
    }
    if (signo == SIGKILL || signo == SIGSTOP) {
        throw signal_error(std::string(what) + ": signal " + describe(signo) +
                           " cannot be caught or blocked, so it cannot be waited for");
    }
    if (signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
        signo == SIGTRAP || signo == SIGSYS) {
        throw signal_error(std::string(what) + ": signal " + describe(signo) +
                           " reports a fault of the instruction that raised it; blocked, it "
                           "would kill the process instead of waiting to be read");
    }
}

void end_process_by(int signo) noexcept {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(signo, &default_action, nullptr);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signo);
    pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
    raise(signo);
    _exit(128 + signo); // the default action of signo does not end the process
}

signal_source::signal_source(reactor& events, const std::vector<int>& signals,
                             interrupt_handler interrupt)
    : interrupt_(interrupt) {
    sigemptyset(&watched_);
    sigemptyset(&previous_mask_);
    if (signals.empty()) {
        return;
    }
    for (const int signo : signals) {
        sigaddset(&watched_, signo);
        if (!deliveries_[static_cast<std::size_t>(signo)]) {
            deliveries_[static_cast<std::size_t>(signo)] = std::make_unique<signal_deliveries>();
        }
    }
    pthread_sigmask(SIG_BLOCK, &watched_, &previous_mask_);
    fd_ = signalfd(-1, &watched_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) {
        const int error = errno;
        pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
        throw std::system_error(error, std::generic_category(),
                                "weft::run: creating the signalfd for run_options::signals");
    }
    try {
        source_ = events.attach(fd_, "weft::run: registering the signalfd with epoll",
                                io_event_handler{&signal_source::on_event, this});
    } catch (...) {
        close(fd_);
        pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
        throw;
    }
}

signal_source::~signal_source() {
    if (fd_ < 0) {
        return;
    }
    reactor::release(source_);
    signalfd_siginfo discarded;
    while (read(fd_, &discarded, sizeof discarded) == sizeof discarded) {
    }
    close(fd_);
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

signal_deliveries* signal_source::deliveries(int signo) noexcept {
    if (signo < 1 || signo >= _NSIG) {
        return nullptr;
    }
    return deliveries_[static_cast<std::size_t>(signo)].get();
}

std::size_t signal_source::on_event(void* context, io_source&, waker& driver) noexcept {
    return static_cast<signal_source*>(context)->read_pending(driver);
}

std::size_t signal_source::read_pending(waker& driver) noexcept {
    std::size_t woken = 0;
    signalfd_siginfo info;
    // Edge-triggered: read until the kernel has nothing left, or a later signal would find
    // no edge to report it.
    for (;;) {
        const ssize_t got = read(fd_, &info, sizeof info);
        if (got != sizeof info) {
            if (got < 0 && errno == EINTR) {
                continue;
            }
            return woken;
        }
        signal_deliveries* counted = deliveries(static_cast<int>(info.ssi_signo));
        if (counted == nullptr) {
            continue;
        }
        const std::size_t took = counted->readiness.signal(driver);
        woken += took;
        // acquire: pairs with the listener's release increment. A listener made before the
        // process was sent this SIGINT is counted: the send and this read take the kernel's
        // signal-queue lock in that order.
        if (took == 0 && info.ssi_signo == SIGINT && interrupt_.on_interrupt != nullptr &&
            counted->listeners.load(std::memory_order_acquire) == 0) {
            interrupt_.on_interrupt(interrupt_.context);
        }
    }
}

} // namespace weft::detail
