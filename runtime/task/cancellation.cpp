// The strand word's transitions; the states and who may make which are in
// include/weft/detail/cancellation.hpp, and the argument in docs/architecture.md.
#include <weft/detail/cancellation.hpp>
#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

#include "task/claims.hpp"
#include "task/heavy_fence.hpp"

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

// This thread's arming as a canceller of forwarding slots (cancellation.hpp): whether it is
// counted in armed_cancellers, whether it stays armed between requests (a worker), and
// whether it claimed a slot since the worker last looked.
thread_local bool canceller_armed = false;
thread_local bool canceller_stays_armed = false;
thread_local bool claimed_since_look = false;

void arm_canceller() noexcept {
    claimed_since_look = true;
    if (canceller_armed) {
        return;
    }
    canceller_armed = true;
    // seq_cst: the count is in place before the barrier below runs on the strands' CPUs.
    armed_cancellers.fetch_add(1, std::memory_order_seq_cst);
    // Without the fence the count stayed at 1 from the start, and strands always pay their
    // half of the pairing, so there is nothing to call; registered, it does not fail.
    if (heavy_fence_available()) {
        heavy_fence();
    }
}

// The end of a request: a thread that is not a worker disarms once its outermost one ends.
void end_request() noexcept {
    if (claims_held == nullptr && canceller_armed && !canceller_stays_armed) {
        disarm_canceller();
    }
}

std::uintptr_t forwarding_slot_address(strand_word& word) noexcept {
    return reinterpret_cast<std::uintptr_t>(&forwarding_slot(word));
}

} // namespace

std::atomic<std::uint32_t> armed_cancellers{heavy_fence_available() ? 0U : 1U};

void keep_canceller_armed(bool keep) noexcept {
    canceller_stays_armed = keep;
    if (!keep) {
        disarm_canceller();
    }
}

void disarm_idle_canceller() noexcept {
    if (canceller_armed && !std::exchange(claimed_since_look, false)) {
        disarm_canceller();
    }
}

void disarm_canceller() noexcept {
    if (canceller_armed) {
        canceller_armed = false;
        // release: the claims this thread made, resolved before this, happen before a
        // strand that reads the count as zero and then the word (publish_forwarding_target).
        armed_cancellers.fetch_sub(1, std::memory_order_release);
    }
}

bool claimed_by_this_thread(const strand_word& word) noexcept {
    for (const claim_link* link = claims_held; link != nullptr; link = link->outer) {
        if (link->word == &word) {
            return true;
        }
    }
    return false;
}

namespace {

// The interruption of the target `seen` names (a target's address, or the forwarding slot's
// for a claim of the slot), claimed by this thread.
cancel_result interrupt_claimed(strand_word& word, std::uintptr_t seen,
                                cancel_target& target) noexcept {
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
    // for the claim in end_strand, cannot free the runtime under this call.
    if (done.result == interruption::outcome::withdrawn) {
        schedule(*done.home, done.resume);
    }
    // release: what the interruption did (the wait taken back) happens before the strand
    // leaves the target. After this store the target may be gone: only `done` is read.
    word.store(seen | delivered, std::memory_order_release);
    return cancel_result::accepted;
}

// A claim of the forwarding slot, made by the CAS that left `claim` in the word: interrupts
// the gather published there, or leaves the request pending if there is none.
cancel_result interrupt_forwarding_slot(strand_word& word, std::uintptr_t claim) noexcept {
    // acquire: pairs with publish_forwarding_target's release, so the gather is set up.
    const std::int32_t distance = forwarding_slot(word).load(std::memory_order_acquire);
    if (distance != 0) {
        // Published and not left: the strand waits for the claim before it leaves, so the
        // gather outlives the interruption, and it cannot end meanwhile.
        auto& target = *reinterpret_cast<cancel_target*>(reinterpret_cast<std::uintptr_t>(&word) +
                                                         static_cast<std::uintptr_t>(distance));
        return interrupt_claimed(word, claim & ~claimed, target);
    }
    // release: as a request's. The CAS fails only if the strand ended by the plain store of
    // end_child_strand_quickly since the claim: the request came too late, as if made after
    // the end.
    std::uintptr_t held = claim;
    if (word.compare_exchange_strong(held, requested, std::memory_order_release,
                                     std::memory_order_relaxed)) {
        return cancel_result::accepted;
    }
    return cancel_result::ended;
}

// request_cancel and request_child_cancel: the second claims the forwarding slot where the
// first leaves a request pending.
cancel_result make_request(strand_word& word, bool claims_slot) noexcept {
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
        if (seen == 0 && claims_slot) {
            // Armed first, so that a strand publishing in the slot either had its store
            // visible before the claim below or pays its half of the pairing and meets it.
            arm_canceller();
            const std::uintptr_t claim = forwarding_slot_address(word) | claimed;
            // acq_rel: release for the strand's RMW that waits on the claim; acquire pairs
            // with such an RMW that came first, so its slot store is seen.
            if (word.compare_exchange_weak(seen, claim, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
                return interrupt_forwarding_slot(word, claim);
            }
            continue;
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
            return interrupt_claimed(word, seen, *reinterpret_cast<cancel_target*>(seen));
        }
    }
}

} // namespace

cancel_result request_cancel(strand_word& word) noexcept {
    const cancel_result result = make_request(word, false);
    end_request();
    return result;
}

cancel_result request_child_cancel(strand_word& word) noexcept {
    const cancel_result result = make_request(word, true);
    end_request();
    return result;
}

bool end_strand(strand_word& word) noexcept {
    // acquire: pairs with a request's release, like publish_target.
    std::uintptr_t seen = word.load(std::memory_order_acquire);
    for (;;) {
        if ((seen & claimed) != 0) {
            cpu_relax(); // a canceller is looking at the forwarding slot; it is short
            seen = word.load(std::memory_order_acquire); // acquire: as above
            continue;
        }
        // acq_rel: release orders the strand's result before a canceller that then finds it
        // ended; acquire as above.
        if (word.compare_exchange_weak(seen, ended, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
            return seen == requested;
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
        if ((seen & claimed) != 0) {
            cpu_relax(); // a canceller is looking at the empty forwarding slot; it is short
            seen = word.load(std::memory_order_acquire); // acquire: as above
            continue;
        }
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

bool publish_forwarding_target_contended(strand_word& word) noexcept {
    const std::uintptr_t self = forwarding_slot_address(word);
    for (;;) {
        // acq_rel: the RMW is the strand's half of the pairing with a claim (see
        // cancellation.hpp): ordered after the slot's store, it either comes before the claim,
        // which then reads the slot, or after it and sees it; acquire as for a request.
        std::uintptr_t seen = word.fetch_or(0, std::memory_order_acq_rel);
        if (seen == (self | claimed)) {
            cpu_relax(); // a canceller is looking at the slot; it is short
            continue;
        }
        if (seen == requested) {
            // The request is delivered here, as publish_target_contended does; relaxed on
            // failure, since the loop reads the word again.
            if (word.compare_exchange_weak(seen, self | delivered, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
                return false;
            }
            continue;
        }
        return true; // 0, or `self | delivered`: a claim interrupted the gather already
    }
}

bool leave_forwarding_target_contended(strand_word& word) noexcept {
    const std::uintptr_t self = forwarding_slot_address(word);
    for (;;) {
        // acq_rel: the strand's half of the pairing, as in publish_forwarding_target_contended;
        // acquire also pairs with the release of a claim that delivered.
        const std::uintptr_t seen = word.fetch_or(0, std::memory_order_acq_rel);
        if (seen == (self | claimed)) {
            cpu_relax(); // a canceller is inside the interruption; it is short
            continue;
        }
        if (seen != (self | delivered)) {
            return false; // 0, or a request left pending for the next suspension point
        }
        // relaxed: cancellers leave a delivery alone, so the word is this strand's to reset,
        // and the RMW above acquired what the interruption did.
        word.store(0, std::memory_order_relaxed);
        note_consumed(word);
        return true;
    }
}

bool take_pending_cancel_contended(strand_word& word) noexcept {
    // While the strand runs with no target, its word is 0 or `requested`, or a canceller's
    // claim of the empty forwarding slot, and other threads can only move it from 0 to
    // `requested` or to the claim and back to `requested`: one exchange decides whether it
    // consumed one.
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
