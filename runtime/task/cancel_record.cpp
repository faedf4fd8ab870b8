// The table of cancel records (include/weft/detail/cancel_record.hpp) and the message a
// thread's strand consumed last. A record is keyed by its task's strand word, which lives
// as long as the frame; the table is sharded by that address so that unrelated tasks
// cancelled at once rarely share a lock. A shard's lock is never held across an
// interruption (which may take other locks and cancel other strands), and a strand takes
// it only as it consumes a cancellation, so the fast paths of cancellation.hpp never do.
#include <weft/detail/cancel_record.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include <weft/errors.hpp>

#include "task/claims.hpp"
#include "task/side_table.hpp"

namespace weft::detail {
namespace {

using strand_bits::claimed;
using strand_bits::delivered;
using strand_bits::ended_blind;
using strand_bits::requested;

struct cancel_record {
    std::size_t requests = 0;

    // The messages of requests made and not yet taken by the strand, oldest first. There are
    // at most two: a request the strand has just consumed (its exchange of the word done,
    // its taking of the message, under the lock, not yet) and one made since, which must not
    // overwrite it. The strand takes them in order, one per consumption.
    std::array<cancel_message, 2> messages;
    std::uint8_t untaken = 0;

    // A new request, made while the word read 0 or a bare target. Two requests racing the
    // strand past a bare target may both issue for what becomes one pending request; a third
    // then replaces the latest rather than overflow.
    void issue(cancel_message message) noexcept {
        if (untaken == messages.size()) {
            messages[untaken - 1] = std::move(message);
        } else {
            messages[untaken++] = std::move(message);
        }
    }
    // A request made while the last one is still pending: its message wins.
    void replace_latest(cancel_message message) noexcept {
        if (untaken == 0) {
            issue(std::move(message)); // the pending request carried none (an internal one)
        } else {
            messages[untaken - 1] = std::move(message);
        }
    }
    // The pending request was withdrawn (uncancel).
    void drop_latest() noexcept {
        if (untaken != 0) {
            messages[--untaken].reset();
        }
    }
    // The strand consumed the oldest request.
    cancel_message take() noexcept {
        if (untaken == 0) {
            return nullptr;
        }
        cancel_message oldest = std::move(messages[0]);
        messages[0] = std::move(messages[1]);
        messages[1].reset();
        --untaken;
        return oldest;
    }
};

side_table<strand_word, cancel_record> table;
using record_shard = side_table<strand_word, cancel_record>::shard;

// How many records exist, so that a strand consuming a cancellation skips the table when
// no task was ever cancelled through a handle (the runtime's own cancellations, such as a
// deadline's or a gather's, make none).
std::atomic<std::size_t> records_live{0};

// The message of the cancellation this thread's strand consumed last (see note_consumed).
thread_local cancel_message consumed_message;

record_shard& shard_of(const strand_word& word) noexcept {
    return table.shard_of(word);
}

// Under the shard's lock.
cancel_record* find_record(record_shard& shard, const strand_word& word) noexcept {
    return shard.find(word);
}

// Under the shard's lock; the caller holds a handle to the task.
cancel_record& record_of(record_shard& shard, frame_header& header) {
    const auto [place, made] = shard.records.try_emplace(&header.task_strand());
    if (made) {
        // relaxed, both: a strand that must see the record learns of it through a later
        // release of its word by this canceller (or this lock), which orders these before;
        // the last reference acquires the flag with the count of references.
        records_live.fetch_add(1, std::memory_order_relaxed);
        header.flags.fetch_or(task_flag::cancel_record, std::memory_order_relaxed);
    }
    return place->second;
}

} // namespace

namespace {

// The message of the counted request whose interruptions this thread is making, so that a
// task they reach by forwarding (one awaited, or awaited further down) gets it too, as
// asyncio's Task.cancel(msg) passes msg to what the task awaits.
thread_local const cancel_message* forwarded_message = nullptr;

// Whether a request that left the task's word `requested` will be seen: false if the task's
// end read the word just before and overwrote it (end_task_strand). That end holds the
// task's waiter list's lock from before its read until after its store, so it is over, and
// the word says `ended_blind`, once the list is seen unlocked; an end that locks the list
// later reads the request. Under the shard's lock: a spin on the list's lock is short, and
// no holder of that lock waits for a shard's.
bool request_seen_by_task(frame_header& header, const strand_word& word) noexcept {
    header.waiters.wait_unlocked();
    // acquire: the end's store, before the unlocking release just read, is visible.
    return word.load(std::memory_order_acquire) != ended_blind;
}

// Counts a request on the task and leaves `message` where it will be delivered, then makes
// the request with request_cancel, outside the lock.
cancel_result counted_request(frame_header& header, const cancel_message& message) noexcept {
    strand_word& word = header.task_strand();
    record_shard& shard = shard_of(word);
    {
        const std::lock_guard hold(shard.lock);
        // acquire: a published target's fields are visible, as in request_cancel.
        std::uintptr_t seen = word.load(std::memory_order_acquire);
        for (;;) {
            if (has_ended(seen)) {
                return cancel_result::ended;
            }
            cancel_record& record = record_of(shard, header);
            if ((seen & (claimed | delivered)) != 0) {
                // Being delivered: that cancellation keeps its message and this request
                // adds nothing to it, unless this thread's own claim makes it a cycle (see
                // request_cancel). Decided here, under the lock: a request_cancel after it
                // could find the strand past the delivery and make a second one.
                ++record.requests;
                return (seen & claimed) != 0 && claimed_by_this_thread(word)
                           ? cancel_result::cycle
                           : cancel_result::accepted;
            }
            if ((seen & ~requested) != 0) {
                // Suspended on a target: the request will interrupt it, unless the strand
                // leaves it first; then it is left pending with this message.
                ++record.requests;
                record.issue(message);
                break;
            }
            // 0 or requested: the request is or stays pending, with this message (asyncio's
            // last cancel() before the task runs wins). The strand takes the message under
            // this lock, after its acquiring exchange of the word has read this RMW's
            // release (a CAS even when the word stays `requested`), or a later value.
            const bool pending = seen == requested;
            // seq_cst: one half of request_seen_by_task's pair with end_task_strand (a
            // release for the strand's consumption, as above); acquire on failure, as the
            // load above.
            if (word.compare_exchange_weak(seen, requested, std::memory_order_seq_cst,
                                           std::memory_order_acquire)) {
                if (!request_seen_by_task(header, word)) {
                    return cancel_result::ended; // the task ended first: nothing counted
                }
                ++record.requests;
                if (pending) {
                    record.replace_latest(message);
                } else {
                    record.issue(message);
                }
                return cancel_result::accepted;
            }
        }
    }
    const cancel_message* outer = std::exchange(forwarded_message, &message);
    const cancel_result result = request_cancel(word);
    forwarded_message = outer;
    return result;
}

} // namespace

bool cancel_task(frame_header& header, cancel_message message) noexcept {
    return counted_request(header, message) != cancel_result::ended;
}

cancel_result forward_cancel_to_task(frame_header& header) noexcept {
    static const cancel_message none;
    return counted_request(header, forwarded_message != nullptr ? *forwarded_message : none);
}

std::size_t cancel_requests(frame_header& header) noexcept {
    strand_word& word = header.task_strand();
    record_shard& shard = shard_of(word);
    const std::lock_guard hold(shard.lock);
    const cancel_record* record = find_record(shard, word);
    return record == nullptr ? 0 : record->requests;
}

std::size_t uncancel_task(frame_header& header) noexcept {
    strand_word& word = header.task_strand();
    record_shard& shard = shard_of(word);
    const std::lock_guard hold(shard.lock);
    cancel_record* record = find_record(shard, word);
    if (record == nullptr || record->requests == 0) {
        return 0;
    }
    if (--record->requests == 0) {
        std::uintptr_t pending = requested;
        // relaxed: the request carried nothing the strand must see, and a strand racing
        // this CAS to consume it either wins (and is cancelled) or finds 0 and goes on.
        if (word.compare_exchange_strong(pending, 0, std::memory_order_relaxed)) {
            record->drop_latest();
        }
    }
    return record->requests;
}

void forget_cancel_record(frame_header& header) noexcept {
    strand_word& word = header.task_strand();
    record_shard& shard = shard_of(word);
    const std::lock_guard hold(shard.lock);
    if (shard.records.erase(&word) != 0) {
        // relaxed: the count only lets consumers skip the table; a task with a record is
        // not being freed, so no consumer depends on this decrement.
        records_live.fetch_sub(1, std::memory_order_relaxed);
    }
}

void note_consumed(strand_word& word) noexcept {
    consumed_message.reset();
    // relaxed: the record of a request that reached this strand was made before the release
    // that this strand's consuming exchange acquired, so it is counted here.
    if (records_live.load(std::memory_order_relaxed) == 0) {
        return;
    }
    record_shard& shard = shard_of(word);
    const std::lock_guard hold(shard.lock);
    if (cancel_record* record = find_record(shard, word)) {
        consumed_message = record->take();
    }
}

cancel_message take_consumed_message() noexcept {
    return std::exchange(consumed_message, nullptr);
}

void throw_cancellation(const cancel_message& message) {
    if (message) {
        throw cancelled_error(*message);
    }
    throw cancelled_error();
}

void throw_delivered_cancellation() {
    throw_cancellation(take_consumed_message());
}

std::exception_ptr delivered_cancellation() noexcept {
    try {
        throw_delivered_cancellation();
    } catch (...) {
        return std::current_exception();
    }
}

void rearm_cancel(strand_word& word, cancel_message message) noexcept {
    record_shard& shard = shard_of(word);
    const std::lock_guard hold(shard.lock);
    std::uintptr_t idle = 0;
    // release: as a request's, which the next suspension's delivery acquires; relaxed on
    // failure, when another request is already pending and keeps its own message.
    if (word.compare_exchange_strong(idle, requested, std::memory_order_release,
                                     std::memory_order_relaxed)) {
        if (cancel_record* record = find_record(shard, word)) {
            record->issue(std::move(message));
        }
    }
}

} // namespace weft::detail
