// A hierarchical timing wheel (Tokio's time/wheel, with a 1 ns tick). Nothing in it is
// atomic or locked: its user makes every call from one thread at a time (each worker's
// timer_driver.hpp calls it under its lock, since a cancellation may come from any thread).
//
// Eleven levels of 64 slots, each level with a 64-bit occupancy bitmap. A slot at level L
// spans 64^L ns and its level spans 64^(L+1) ns: the aligned block of that size that holds
// now(). An entry whose deadline d is later than now() sits at level
// L = ilog2((now ^ d) | 63) / 6, the 6-bit digit where d first differs from now, in slot
// (d >> 6L) & 63; level 10 reaches 2^64, so every uint64 deadline has a place. An entry
// whose deadline is not later than now() waits on the expired list for the next advance().
//
// Invariant: every entry is on the list insert() would choose for the current now(). So a
// level's occupied slots all start after now() and inside the level's current block, which
// lies after every slot of the levels below: the earliest occupied slot is the lowest set
// bit of the lowest occupied level. advance() keeps the invariant by moving now() to that
// slot's start and placing its entries again (each drops at least one level, or onto the
// expired list once due), as long as slots start by the new time. A slot never starts after
// a deadline in it, so no entry fires early; level 0's slots are 1 ns wide, so none fires
// late. An entry's list depends only on (now, deadline), so entries with equal deadlines
// share one list, in insertion order, and the cascade delivers due entries in firing order.
// Two lists need sorting: the overdue entries inserted since the last advance(), and a
// level-1 slot that is due as a whole, which goes straight to the expired list instead of
// through level 0 (its entries lie within 64 ns, so it is short or already in order).
//
// The entry type, timer_entry, is in include/weft/detail/timer_entry.hpp because the
// awaiter of weft::sleep embeds it; only this wheel touches its links.
//
// Costs: insert and cancel O(1). next_deadline() O(levels) bit scans plus, when the earliest
// slot is above level 0, one scan of that slot's list (the answer is kept until the earliest
// entry leaves). advance() O(levels) per occupied slot it passes and O(1) per entry per level
// it drops, plus the two merge sorts, skipped when the lists are in order. Nothing allocates.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <weft/detail/timer_entry.hpp>

namespace weft::detail {

class timer_wheel {
public:
    static constexpr unsigned levels = 11;
    static constexpr unsigned slots_per_level = 64;

    // A wheel whose clock reads `now`, with nothing pending. Its insertion counter starts at
    // `first_sequence` (tests start it just short of its wrap).
    explicit timer_wheel(std::uint64_t now = 0, std::uint64_t first_sequence = 0) noexcept
        : now_(now), next_sequence_(first_sequence) {}

    // Entries point at their lists inside the wheel, so it stays where it was made.
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    // Registers `entry`, whose deadline is set and which is not pending. O(1). A deadline
    // not later than now() is allowed: the entry fires on the next advance().
    void insert(timer_entry& entry) noexcept {
        if (size_ == 0 || (earliest_ && entry.deadline < *earliest_)) {
            earliest_ = entry.deadline;
        }
        entry.sequence_ = next_sequence_++;
        ++size_;
        place(entry);
    }

    // Unregisters `entry`, which is pending in this wheel, by unlinking it: O(1), and it
    // will not fire. An entry that is not pending (it fired, or was never inserted) is left
    // alone.
    void cancel(timer_entry& entry) noexcept {
        if (pending(entry)) {
            if (&entry == batch_last_) {
                batch_last_ = entry.prev_; // a fire cancelled the batch's last entry
            }
            remove(entry);
        }
    }

    // Whether `entry` is registered and has not fired yet.
    static bool pending(const timer_entry& entry) noexcept {
        return entry.list_ != timer_entry::unlinked;
    }

    // The earliest pending deadline (which is at most now() if an entry is overdue), or
    // nullopt if nothing is pending. Exact: never later, and never earlier, than the true one.
    std::optional<std::uint64_t> next_deadline() const noexcept;

    // Moves the clock to `now` (a `now` earlier than now() counts as now()) and fires every
    // pending entry whose deadline is not later, in order of deadline and, for equal
    // deadlines, of insertion. While firing, now() reads `now`, and `fire` may insert and
    // cancel entries, its own included (insert it again, with a later deadline unless it
    // wants to fire again at once); an entry inserted during this call with a deadline not
    // later than `now` fires in this same call, after the batch that was due before it. Not
    // to be called from a `fire`. Returns the number of entries fired.
    std::size_t advance(std::uint64_t now) noexcept;

    // The wheel's clock: the latest `now` given to advance() or the constructor.
    std::uint64_t now() const noexcept { return now_; }

    // How many entries are pending.
    std::size_t size() const noexcept { return size_; }

private:
    struct entry_list {
        timer_entry* head = nullptr;
        timer_entry* tail = nullptr;
    };

    static constexpr std::uint16_t expired_list = levels * slots_per_level;
    static constexpr unsigned no_level = levels;

    static unsigned level_for(std::uint64_t now, std::uint64_t deadline) noexcept {
        return static_cast<unsigned>(std::bit_width((now ^ deadline) | 63) - 1) / 6;
    }

    // Puts `entry` on the list the invariant names for it.
    void place(timer_entry& entry) noexcept {
        if (entry.deadline <= now_) {
            append(expired_list, entry);
            return;
        }
        const unsigned level = level_for(now_, entry.deadline);
        const unsigned slot = static_cast<unsigned>(entry.deadline >> (6 * level)) & 63;
        occupied_[level] |= std::uint64_t{1} << slot;
        append(static_cast<std::uint16_t>(level * slots_per_level + slot), entry);
    }

    void append(std::uint16_t list_index, timer_entry& entry) noexcept {
        entry_list& list = lists_[list_index];
        entry.list_ = list_index;
        entry.prev_ = list.tail;
        entry.next_ = nullptr;
        if (list.tail != nullptr) {
            list.tail->next_ = &entry;
        } else {
            list.head = &entry;
        }
        list.tail = &entry;
    }

    // Unlinks a pending entry, clearing its slot's bit if the slot empties, and forgets it.
    void remove(timer_entry& entry) noexcept {
        entry_list& list = lists_[entry.list_];
        if (entry.prev_ != nullptr) {
            entry.prev_->next_ = entry.next_;
        } else {
            list.head = entry.next_;
        }
        if (entry.next_ != nullptr) {
            entry.next_->prev_ = entry.prev_;
        } else {
            list.tail = entry.prev_;
        }
        if (list.head == nullptr && entry.list_ != expired_list) {
            occupied_[entry.list_ / slots_per_level] &=
                ~(std::uint64_t{1} << (entry.list_ % slots_per_level));
        }
        entry.list_ = timer_entry::unlinked;
        entry.prev_ = nullptr;
        entry.next_ = nullptr;
        --size_;
        if (earliest_ && entry.deadline == *earliest_) {
            earliest_.reset();
        }
    }

    // Firing order: by deadline, then by insertion.
    static bool fires_before(const timer_entry& a, const timer_entry& b) noexcept;

    // Whether insertion number `a` came before `b`, both counted modulo 2^48: exact while
    // they are fewer than 2^47 insertions apart. Only the order of entries with equal
    // deadlines depends on it, and an entry would have to stay pending through 2^47 inserts
    // into its wheel (over six days of nothing but inserts, at the wheel's 4 ns each) to see
    // it wrong.
    static bool inserted_before(std::uint64_t a, std::uint64_t b) noexcept {
        constexpr std::uint64_t modulus = std::uint64_t{1} << timer_entry::sequence_bits;
        const std::uint64_t distance = (b - a) & (modulus - 1);
        return distance != 0 && distance < modulus / 2;
    }

    // The lowest level with an occupied slot, or no_level.
    unsigned lowest_occupied_level() const noexcept {
        for (unsigned level = 0; level < levels; ++level) {
            if (occupied_[level] != 0) {
                return level;
            }
        }
        return no_level;
    }

    // Where `slot` of `level` starts in the level's current block.
    std::uint64_t slot_start(unsigned level, unsigned slot) const noexcept {
        const unsigned shift = 6 * level;
        const std::uint64_t block_start =
            level + 1 < levels ? now_ & ~((std::uint64_t{1} << (shift + 6)) - 1) : 0;
        return block_start | (std::uint64_t{slot} << shift);
    }

    std::uint64_t find_earliest() const noexcept;
    void cascade_until(std::uint64_t now) noexcept;
    // Puts the expired list in firing order.
    void sort_expired() noexcept;
    // Appends a chain linked by next_ to the expired list, in its order.
    void append_to_expired(timer_entry* chain) noexcept;
    // Sorts a chain linked by next_ into firing order; returns its new head.
    static timer_entry* sort_chain(timer_entry* head) noexcept;

    std::uint64_t now_;
    std::uint64_t next_sequence_ = 0;
    // While advance() fires a batch: the batch's last entry, or null once it has fired.
    timer_entry* batch_last_ = nullptr;
    std::size_t size_ = 0;
    // The earliest pending deadline when known; forgotten when an entry with it leaves.
    mutable std::optional<std::uint64_t> earliest_;
    std::array<std::uint64_t, levels> occupied_{};
    // levels * 64 slot lists, then the expired list (deadlines not later than now_, in
    // insertion order until advance() sorts them).
    std::array<entry_list, levels * slots_per_level + 1> lists_{};
};

} // namespace weft::detail
