// See idle.hpp for the protocol these operations implement.
#include "scheduler/idle.hpp"

#include <algorithm>

namespace weft::detail {

idle::idle(std::size_t workers) : workers_(workers), state_(workers * one_awake) {
    sleepers_.reserve(workers);
}

bool idle::try_begin_searching() noexcept {
    // seq_cst: the counts are read and written in the protocol's single order.
    std::uint64_t state = state_.load(std::memory_order_seq_cst);
    for (;;) {
        if (2 * searching(state) >= std::max<std::uint32_t>(awake(state), 2)) {
            return false;
        }
        if (state_.compare_exchange_weak(state, state + one_searching, std::memory_order_seq_cst)) {
            return true;
        }
    }
}

bool idle::end_searching() noexcept {
    // seq_cst: as above.
    return searching(state_.fetch_sub(one_searching, std::memory_order_seq_cst)) == 1;
}

bool idle::enter_sleep(std::size_t id, bool is_searching) {
    std::lock_guard guard(mutex_);
    sleepers_.push_back(id);
    const std::uint64_t leaving = one_awake + (is_searching ? one_searching : 0);
    // seq_cst: the store half of the sleeper's store->load check (see idle.hpp).
    return awake(state_.fetch_sub(leaving, std::memory_order_seq_cst)) == 1;
}

bool idle::leave_sleep(std::size_t id) {
    return take_off_list(id, one_awake);
}

bool idle::claim(std::size_t id) {
    return take_off_list(id, one_awake + one_searching);
}

bool idle::take_off_list(std::size_t id, std::uint64_t counted_as) {
    std::lock_guard guard(mutex_);
    const auto listed = std::find(sleepers_.begin(), sleepers_.end(), id);
    if (listed == sleepers_.end()) {
        return false;
    }
    sleepers_.erase(listed);
    // seq_cst: the counts are read and written in the protocol's single order.
    state_.fetch_add(counted_as, std::memory_order_seq_cst);
    return true;
}

std::optional<std::size_t> idle::claim_sleeper() {
    // seq_cst: the load half of the producer's store->load check; the common case (a
    // searcher exists, or everyone is awake) returns here without the lock.
    if (!should_wake(state_.load(std::memory_order_seq_cst))) {
        return std::nullopt;
    }
    std::lock_guard guard(mutex_);
    // seq_cst: re-read under the lock, which serialises claims.
    if (!should_wake(state_.load(std::memory_order_seq_cst)) || sleepers_.empty()) {
        return std::nullopt;
    }
    const std::size_t id = sleepers_.back();
    sleepers_.pop_back();
    // seq_cst: as above.
    state_.fetch_add(one_awake + one_searching, std::memory_order_seq_cst);
    return id;
}

} // namespace weft::detail
