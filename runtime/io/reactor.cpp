// The epoll reactor; the design and its memory-safety invariant are in reactor.hpp, the
// readiness protocol in io_source.hpp.
#include "io/reactor.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <weft/detail/cpu_relax.hpp>

#include "time/clock.hpp"

namespace weft::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// epoll_pwait2 takes a nanosecond timeout (Linux 5.11); older kernels get epoll_wait's
// milliseconds, rounded up so a deadline is never polled past early.
int wait_for_events(int epoll_fd, epoll_event* events, int capacity,
                    std::uint64_t deadline_ns) noexcept {
    static std::atomic<bool> has_pwait2{true};
    const bool forever = deadline_ns == interruptible_wait::no_deadline;
    const std::uint64_t now = forever ? 0 : monotonic_ns();
    const std::uint64_t left = forever || deadline_ns <= now ? 0 : deadline_ns - now;
    // relaxed: a cached fact about the kernel; racing first calls both find it out.
    if (has_pwait2.load(std::memory_order_relaxed)) {
        timespec timeout{static_cast<time_t>(left / 1'000'000'000),
                         static_cast<long>(left % 1'000'000'000)};
        const int count =
            epoll_pwait2(epoll_fd, events, capacity, forever ? nullptr : &timeout, nullptr);
        if (count >= 0 || errno != ENOSYS) {
            return count;
        }
        has_pwait2.store(false, std::memory_order_relaxed); // relaxed: as above
    }
    const int milliseconds =
        forever ? -1
                : static_cast<int>(std::min<std::uint64_t>((left + 999'999) / 1'000'000, 1u << 30));
    return epoll_wait(epoll_fd, events, capacity, milliseconds);
}

} // namespace

reactor::reactor() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        throw_errno("weft: creating the runtime's epoll instance");
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        const int error = errno;
        close(epoll_fd_);
        throw std::system_error(error, std::generic_category(),
                                "weft: creating the runtime's wake-up eventfd");
    }
    epoll_event wake_event{};
    wake_event.events = EPOLLIN | EPOLLET;
    wake_event.data.ptr = nullptr; // the eventfd: no source
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event) != 0) {
        const int error = errno;
        close(wake_fd_);
        close(epoll_fd_);
        throw std::system_error(error, std::generic_category(),
                                "weft: registering the runtime's wake-up eventfd");
    }
}

reactor::~reactor() {
    orphan_attached();
    free_released();
    close(wake_fd_);
    close(epoll_fd_);
}

io_source* reactor::attach(int fd, const char* what, io_event_handler handler) {
    auto* source = new io_source(fd, *this, handler);
    // release, before the source reaches the kernel: a driver that gets an event for it
    // acquires attached_ before touching it (wait_until), so the construction happens
    // before its use in the memory model too, not only through the kernel's own ordering.
    // Every later change of attached_ is a read-modify-write, which continues the release
    // sequence.
    attached_.fetch_add(1, std::memory_order_release);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.ptr = source;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        const int error = errno;
        attached_.fetch_sub(1, std::memory_order_relaxed); // relaxed: never published
        delete source;
        throw std::system_error(error, std::generic_category(), what);
    }
    sources_lock_.lock();
    source->next_attached = std::exchange(attached_sources_, source);
    if (source->next_attached != nullptr) {
        source->next_attached->previous_attached = source;
    }
    sources_lock_.unlock();
    return source;
}

void reactor::release(io_source* source) noexcept {
    std::uint8_t expected = io_source::attached_state;
    // acquire: on failure (orphaned) it pairs with the teardown's release, so the
    // teardown's writes to the source happen before the source is freed here. A successful
    // claim needs no ordering of its own (it keeps the reactor alive by its place before
    // the teardown's CAS on this atomic, and the teardown then waits for the detach under
    // the sources lock), but g++ 12 rejects a failure order stronger than the success one.
    if (source->link_state.compare_exchange_strong(expected, io_source::detaching_state,
                                                   std::memory_order_acquire)) {
        source->owner.detach(source);
    } else {
        delete source; // its reactor has gone: no poll can hold an event for it
    }
}

void reactor::detach(io_source* source) noexcept {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, source->fd, nullptr);
    // relaxed: in_use() is a hint, and as a read-modify-write it keeps attach's release
    // sequence going.
    attached_.fetch_sub(1, std::memory_order_relaxed);
    // Under the sources lock to the end: once the source leaves the list and the lock is
    // free, the teardown may destroy this reactor.
    sources_lock_.lock();
    if (source->previous_attached != nullptr) {
        source->previous_attached->next_attached = source->next_attached;
    } else {
        attached_sources_ = source->next_attached;
    }
    if (source->next_attached != nullptr) {
        source->next_attached->previous_attached = source->previous_attached;
    }
    if (try_drive()) {
        delete source; // no poll under way: nobody can hold an event for it
        stop_driving();
    } else {
        // relaxed: only a guess at the head, which the CAS checks.
        source->next_released = released_.load(std::memory_order_relaxed);
        // release: the driver that takes the stack (acquire) sees the link and the source's
        // last state before it frees it; relaxed on failure, which only reloads the head.
        while (!released_.compare_exchange_weak(
            source->next_released, source, std::memory_order_release, std::memory_order_relaxed)) {
        }
    }
    sources_lock_.unlock();
}

void reactor::orphan_attached() noexcept {
    for (;;) {
        sources_lock_.lock();
        io_source* each = std::exchange(attached_sources_, nullptr);
        while (each != nullptr) {
            io_source* const next = each->next_attached;
            each->previous_attached = nullptr;
            each->next_attached = nullptr;
            std::uint8_t expected = io_source::attached_state;
            // release on success: the socket that frees the orphan (acquire, in release())
            // sees these writes first; past this CAS the source is no longer ours to touch.
            // relaxed on failure: a detach claimed it, and unlinks it under this lock.
            if (!each->link_state.compare_exchange_strong(expected, io_source::orphaned_state,
                                                          std::memory_order_release,
                                                          std::memory_order_relaxed)) {
                each->next_attached = std::exchange(attached_sources_, each);
                if (each->next_attached != nullptr) {
                    each->next_attached->previous_attached = each;
                }
            }
            each = next;
        }
        const bool detaches_pending = attached_sources_ != nullptr;
        sources_lock_.unlock();
        if (!detaches_pending) {
            return;
        }
        // A thread between its claim and its detach: let it run.
        std::this_thread::yield();
    }
}

void reactor::free_released() noexcept {
    // relaxed: a look at whether anything was pushed; a push missed here waits for the
    // next driver, which is safe (late, never early).
    if (released_.load(std::memory_order_relaxed) == nullptr) {
        return;
    }
    // acquire: pairs with detach's release, for each source pushed.
    io_source* list = released_.exchange(nullptr, std::memory_order_acquire);
    while (list != nullptr) {
        delete std::exchange(list, list->next_released);
    }
}

void reactor::interrupt() noexcept {
    const std::uint64_t one = 1;
    // A full counter (never, in practice) already makes the poll return.
    [[maybe_unused]] const ssize_t written = write(wake_fd_, &one, sizeof one);
}

void reactor::wait_until(std::uint64_t deadline_ns) noexcept {
    const int count =
        wait_for_events(epoll_fd_, events_.data(), static_cast<int>(events_.size()), deadline_ns);
    polled_ = count > 0 ? static_cast<std::size_t>(count) : 0;
    if (polled_ != 0) {
        // acquire: see attach(); the value itself is not needed.
        [[maybe_unused]] const std::size_t attached = attached_.load(std::memory_order_acquire);
    }
}

std::size_t reactor::dispatch(waker& driver) noexcept {
    std::size_t woken = 0;
    for (std::size_t i = 0; i < polled_; ++i) {
        auto* source = static_cast<io_source*>(events_[i].data.ptr);
        const std::uint32_t happened = events_[i].events;
        if (source == nullptr) {
            std::uint64_t drained = 0;
            [[maybe_unused]] const ssize_t read_bytes = read(wake_fd_, &drained, sizeof drained);
            continue;
        }
        if (source->handler.on_event != nullptr) {
            woken += source->handler.on_event(source->handler.context, *source, driver);
            continue;
        }
        // An error or hang-up wakes both directions: their system calls report it.
        if ((happened & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            woken += source->readable.signal(driver);
        }
        if ((happened & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
            woken += source->writable.signal(driver);
        }
    }
    polled_ = 0;
    free_released();
    return woken;
}

bool reactor::try_drive_to_park() noexcept {
    // A momentary holder lets go after one system call and a dispatch: a few microseconds,
    // well inside this many pauses unless it was preempted.
    constexpr unsigned brief_hold_spins = 4096;
    for (unsigned spin = 0; spin < brief_hold_spins; ++spin) {
        std::uint8_t expected = role_free;
        // acquire: as in try_drive.
        if (driving_.compare_exchange_weak(expected, role_held_to_park, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return true;
        }
        if (expected == role_held_to_park) {
            return false; // a worker sleeps in the poll: it serves the sockets
        }
        cpu_relax();
    }
    return false;
}

std::size_t reactor::poll_if_free(waker& driver) noexcept {
    if (!try_drive()) {
        return 0;
    }
    wait_until(0);
    const std::size_t woken = dispatch(driver);
    stop_driving();
    return woken;
}

} // namespace weft::detail
