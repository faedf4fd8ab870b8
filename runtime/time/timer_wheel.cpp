// The timing wheel's scans: finding the earliest deadline, cascading on advance() and sorting
// the lists that need it. timer_wheel.hpp states the design and its invariant.
#include "time/timer_wheel.hpp"

#include <limits>

namespace weft::detail {

std::optional<std::uint64_t> timer_wheel::next_deadline() const noexcept {
    if (size_ == 0) {
        return std::nullopt;
    }
    if (!earliest_) {
        earliest_ = find_earliest();
    }
    return earliest_;
}

std::size_t timer_wheel::advance(std::uint64_t now) noexcept {
    // Overdue entries go first, and everything the cascade appends comes after them in order.
    sort_expired();
    cascade_until(now < now_ ? now_ : now);
    std::size_t fired = 0;
    entry_list& expired = lists_[expired_list];
    while (expired.head != nullptr) {
        // The batch is the list as it stands: a `fire` appends what it inserts after it, to
        // wait for the next batch, and cancel() moves the batch's end back when a fire
        // cancels its last entry.
        batch_last_ = expired.tail;
        while (batch_last_ != nullptr) {
            timer_entry& entry = *expired.head;
            if (&entry == batch_last_) {
                batch_last_ = nullptr;
            }
            remove(entry);
            entry.fire(entry);
            ++fired;
        }
        sort_expired();
    }
    return fired;
}

bool timer_wheel::fires_before(const timer_entry& a, const timer_entry& b) noexcept {
    return a.deadline < b.deadline ||
           (a.deadline == b.deadline && inserted_before(a.sequence_, b.sequence_));
}

// The earliest deadline, size_ > 0: overdue entries precede the wheel's; in the wheel, the
// lowest occupied slot of the lowest occupied level holds it, and at level 0 that slot's
// start is every deadline in it.
std::uint64_t timer_wheel::find_earliest() const noexcept {
    const entry_list* list = &lists_[expired_list];
    if (list->head == nullptr) {
        const unsigned level = lowest_occupied_level();
        const unsigned slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
        if (level == 0) {
            return slot_start(0, slot);
        }
        list = &lists_[level * slots_per_level + slot];
    }
    std::uint64_t earliest = std::numeric_limits<std::uint64_t>::max();
    for (const timer_entry* entry = list->head; entry != nullptr; entry = entry->next_) {
        earliest = entry->deadline < earliest ? entry->deadline : earliest;
    }
    return earliest;
}

// Takes each slot that starts by `now`, earliest first, sets now_ to its start and places its
// entries again: those due at that start join the expired list (after every earlier
// deadline, in insertion order), the rest drop to lower levels. A level-1 slot that is due
// as a whole skips level 0: its entries, all within 64 ns, are sorted onto the expired list
// at once, which spares each entry a pass through level 0. Then now_ = `now`, which leaves
// the remaining entries where they were, as their slots all start later.
void timer_wheel::cascade_until(std::uint64_t now) noexcept {
    for (;;) {
        const unsigned level = lowest_occupied_level();
        if (level == no_level) {
            break;
        }
        const unsigned slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
        const std::uint64_t start = slot_start(level, slot);
        if (start > now) {
            break;
        }
        now_ = start;
        occupied_[level] &= ~(std::uint64_t{1} << slot);
        entry_list& list = lists_[level * slots_per_level + slot];
        timer_entry* entry = list.head;
        list = {};
        if (level == 1 && now - start >= slots_per_level - 1) {
            now_ = start + (slots_per_level - 1);
            append_to_expired(sort_chain(entry));
            continue;
        }
        while (entry != nullptr) {
            timer_entry* next = entry->next_;
            place(*entry);
            entry = next;
        }
    }
    now_ = now;
}

void timer_wheel::sort_expired() noexcept {
    entry_list& expired = lists_[expired_list];
    if (expired.head == expired.tail) {
        return; // empty, or one entry
    }
    timer_entry* chain = expired.head;
    expired = {};
    append_to_expired(sort_chain(chain));
}

void timer_wheel::append_to_expired(timer_entry* chain) noexcept {
    while (chain != nullptr) {
        timer_entry* next = chain->next_;
        append(expired_list, *chain);
        chain = next;
    }
}

// A bottom-up merge sort (no memory needed beyond 64 partial runs), after an O(n) check that
// usually finds the chain in order already.
timer_entry* timer_wheel::sort_chain(timer_entry* head) noexcept {
    bool sorted = true;
    for (const timer_entry* entry = head; entry != nullptr && entry->next_ != nullptr;
         entry = entry->next_) {
        if (fires_before(*entry->next_, *entry)) {
            sorted = false;
            break;
        }
    }
    if (sorted) {
        return head;
    }
    // Merges two sorted chains linked by next_ into one.
    const auto merge = [](timer_entry* older, timer_entry* newer) noexcept {
        timer_entry* merged = nullptr;
        timer_entry** link = &merged;
        while (older != nullptr && newer != nullptr) {
            timer_entry*& taken = fires_before(*newer, *older) ? newer : older;
            *link = taken;
            link = &taken->next_;
            taken = taken->next_;
        }
        *link = older != nullptr ? older : newer;
        return merged;
    };
    // runs[i] is empty or a sorted chain of 2^i entries, older than those in runs[i - 1].
    std::array<timer_entry*, 64> runs{};
    timer_entry* rest = head;
    while (rest != nullptr) {
        timer_entry* run = rest;
        rest = rest->next_;
        run->next_ = nullptr;
        std::size_t rank = 0;
        for (; runs[rank] != nullptr; ++rank) {
            run = merge(runs[rank], run);
            runs[rank] = nullptr;
        }
        runs[rank] = run;
    }
    timer_entry* chain = nullptr;
    for (timer_entry* run : runs) {
        if (run != nullptr) {
            chain = merge(run, chain);
        }
    }
    return chain;
}

} // namespace weft::detail
