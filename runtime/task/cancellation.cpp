// The strand word's transitions; the states and who may make which are in
// include/weft/detail/cancellation.hpp, and the argument in docs/architecture.md.
#include <weft/detail/cancellation.hpp>
#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

#include "task/claims.hpp"

namespace weft::detail {
namespace {

using strand_bits::claimed;
using strand_bits::delivered;
using strand_bits::ended;
using strand_bits::requested;
constexpr std::uintptr_t flags = requested | claimed | delivered;
static_assert(alignof(cancel_target) > flags);

std::uintptr_t address_of(cancel_target& target) noexcept {
    return reinterpret_cast<std::uintptr_t>(&target);
}

// The strands whose targets this thread holds claimed, innermost first: a forwarded
// cancellation that comes back to one of them has gone round a cycle of waits. Links live
// on the stack of the request_cancel calls that made them, nested on this thread.
struct claim_link {
    const strand_word* word;
    const claim_link* outer;
};
thread_local const claim_link* claims_held = nullptr;

} // namespace

bool claimed_by_this_thread(const strand_word& word) noexcept {
    for (const claim_link* link = claims_held; link != nullptr; link = link->outer) {
        if (link->word == &word) {
            return true;
        }
    }
    return false;
}

cancel_result request_cancel(strand_word& word) noexcept {
    // acquire: a published target's fields (its interrupt function, its wait) are visible.
    std::uintptr_t seen = word.load(std::memory_order_acquire);
    for (;;) {
        if (has_ended(seen)) {
            // A request on a task that lands as it ends may be lost (end_task_strand): only
            // task::cancel must say so, and counted_request does; the runtime's own requests
            // (a deadline's, an interrupt's) are then ones the task's return overtook.
            return cancel_result::ended;
        }
        if ((seen & claimed) != 0 && claimed_by_this_thread(word)) {
            return cancel_result::cycle;
        }
        if ((seen & flags) != 0) {
            // pending, being interrupted, or delivered: this request adds nothing
            return cancel_result::accepted;
        }
        if (seen == 0) {
            // release: pairs with publish_target's acquire, which delivers the request.
            if (word.compare_exchange_weak(seen, requested, std::memory_order_release,
                                           std::memory_order_acquire)) {
                return cancel_result::accepted;
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
    const claim_link link{&word, claims_held};
    claims_held = &link;
    const interruption done = target.interrupt(target);
    claims_held = link.outer;
    if (done.result == interruption::outcome::too_late) {
        // release: the strand, waiting in leave_target, sees the request and keeps it.
        word.store(requested, std::memory_order_release);
        return cancel_result::accepted;
    }
    // Scheduled while the claim is held: the strand, resumed at once on another worker,
    // waits in leave_target for the store below; and the runtime's teardown, which waits
    // for the claim in seal_strand, cannot free the runtime under this call.
    if (done.result == interruption::outcome::withdrawn) {
        schedule(*done.home, done.resume);
    }
    // release: what the interruption did (the wait taken back) happens before the strand
    // leaves the target. After this store the target may be gone: only `done` is read.
    word.store(seen | delivered, std::memory_order_release);
    return cancel_result::accepted;
}

void seal_strand(strand_word& word) noexcept {
    std::uintptr_t seen = word.load(std::memory_order_acquire); // acquire: as leave_target
    for (;;) {
        if ((seen & claimed) != 0) {
            cpu_relax(); // a canceller is inside the interruption; it is short
            seen = word.load(std::memory_order_acquire); // acquire: pairs with its release
            continue;
        }
        // acquire: the canceller that released its claim is done with the frame and the
        // runtime before they go; on failure, the new word is read the same way.
        if (word.compare_exchange_weak(seen, ended, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
            return;
        }
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

bool publish_target_contended(strand_word& word, cancel_target& target) noexcept {
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

bool leave_target_contended(strand_word& word, cancel_target& target) noexcept {
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
            if (cancelled) {
                note_consumed(word);
            }
            return cancelled;
        }
    }
}

bool take_pending_cancel_contended(strand_word& word) noexcept {
    // While the strand runs with no target, its word is 0 or `requested`, and other threads
    // can only move it from 0 to `requested`: one exchange decides whether it consumed one.
    std::uintptr_t expected = requested;
    // acquire: pairs with request_cancel's release, as a delivery in publish_target does.
    // relaxed on failure: nothing was pending, and nothing is read on that path.
    if (!word.compare_exchange_strong(expected, 0, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        return false;
    }
    note_consumed(word);
    return true;
}

} // namespace weft::detail
