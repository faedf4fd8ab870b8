// The strand word's transitions; the states and who may make which are in
// include/weft/detail/cancellation.hpp, and the argument in docs/architecture.md.
#include <weft/detail/cancellation.hpp>
#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

namespace weft::detail {
namespace {

constexpr std::uintptr_t requested = 1;
constexpr std::uintptr_t claimed = 2;
constexpr std::uintptr_t delivered = 4;
constexpr std::uintptr_t flags = requested | claimed | delivered;
static_assert(alignof(cancel_target) > flags);

std::uintptr_t address_of(cancel_target& target) noexcept {
    return reinterpret_cast<std::uintptr_t>(&target);
}

} // namespace

void request_cancel(strand_word& word) noexcept {
    // acquire: a published target's fields (its interrupt function, its wait) are visible.
    std::uintptr_t seen = word.load(std::memory_order_acquire);
    for (;;) {
        if ((seen & flags) != 0) {
            return; // pending, being interrupted, or delivered: this request adds nothing
        }
        if (seen == 0) {
            // release: pairs with publish_target's acquire, which delivers the request.
            if (word.compare_exchange_weak(seen, requested, std::memory_order_release,
                                           std::memory_order_acquire)) {
                return;
            }
            continue;
        }
        // acq_rel: acquire the target as above; release is for leave_target's spin.
        if (word.compare_exchange_weak(seen, seen | claimed, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
            break;
        }
    }
    auto& target = *reinterpret_cast<cancel_target*>(seen);
    const interruption done = target.interrupt(target);
    if (done.result == interruption::outcome::too_late) {
        // release: the strand, waiting in leave_target, sees the request and keeps it.
        word.store(requested, std::memory_order_release);
        return;
    }
    // release: what the interruption did (the wait taken back) happens before the strand
    // leaves the target. After this store the target may be gone: only `done` is read.
    word.store(seen | delivered, std::memory_order_release);
    if (done.result == interruption::outcome::withdrawn) {
        schedule(*done.home, done.resume);
    }
}

bool is_cancellation(const std::exception_ptr& error) noexcept {
    if (!error) {
        return false;
    }
    try {
        std::rethrow_exception(error);
    } catch (const cancelled_error&) {
        return true;
    } catch (...) {
        return false;
    }
}

bool publish_target(strand_word& word, cancel_target& target) noexcept {
    // acquire: a request's writes happen before its delivery.
    std::uintptr_t seen = word.load(std::memory_order_acquire);
    for (;;) {
        const std::uintptr_t next =
            seen == requested ? address_of(target) | delivered : address_of(target);
        // release: a canceller that reads the target sees it set up; acquire as above.
        if (word.compare_exchange_weak(seen, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
            return seen != requested;
        }
    }
}

bool leave_target(strand_word& word, cancel_target& target) noexcept {
    const std::uintptr_t self = address_of(target);
    for (;;) {
        // acquire: pairs with the canceller's release of its claim.
        std::uintptr_t seen = word.load(std::memory_order_acquire);
        if (seen == (self | claimed)) {
            cpu_relax(); // a canceller is inside the interruption; it is short
            continue;
        }
        if (seen == requested) {
            return false; // the wait ended first; the request waits for the next suspension
        }
        const bool cancelled = seen == (self | delivered);
        // relaxed: the acquire load above already ordered the interruption before us; a
        // canceller racing this exchange can only be claiming, and then one of us retries.
        if (word.compare_exchange_weak(seen, 0, std::memory_order_relaxed)) {
            return cancelled;
        }
    }
}

bool take_pending_cancel(strand_word& word) noexcept {
    // While the strand runs with no target, its word is 0 or `requested`, and other threads
    // can only move it from 0 to `requested`: one exchange decides whether it consumed one.
    std::uintptr_t expected = requested;
    // acquire: pairs with request_cancel's release, as a delivery in publish_target does.
    // relaxed on failure: nothing was pending, and nothing is read on that path.
    return word.compare_exchange_strong(expected, 0, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

} // namespace weft::detail
