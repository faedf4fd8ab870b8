// The item stores behind weft's queues, one per order: fifo_order (a ring that doubles when
// full), lifo_order (a stack) and priority_order (a binary min-heap under Compare). Each
// has push, pop, size, reserve and push_oldest (an item handed out and given back: it goes
// where the oldest item is, so it comes out first again from a queue and last from a
// lifo_queue), and runs under its queue's spin lock.
//
// Invariants the queue relies on: push never allocates below the capacity reserve() asked
// for, and push_oldest never allocates at all (the queue reserves first), so neither fails
// halfway; pops keep the capacity. Items move with noexcept moves (the queue checks T's
// move constructor).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace weft::detail {

template <class T>
class fifo_order {
public:
    void push(T&& item) {
        if (count_ == slots_.size()) {
            grow();
        }
        slots_[(head_ + count_) & (slots_.size() - 1)].emplace(std::move(item));
        ++count_;
    }
    // Below the reserved capacity: goes in front of every item.
    void push_oldest(T&& item) noexcept {
        head_ = (head_ - 1) & (slots_.size() - 1);
        slots_[head_].emplace(std::move(item));
        ++count_;
    }
    void reserve(std::size_t items) {
        while (slots_.size() < items) {
            grow();
        }
    }
    T pop() noexcept {
        std::optional<T>& slot = slots_[head_];
        T item = std::move(*slot);
        slot.reset();
        head_ = (head_ + 1) & (slots_.size() - 1);
        --count_;
        return item;
    }
    std::size_t size() const noexcept { return count_; }

private:
    // Doubles the ring (a power of two), unrolling it so the oldest item is at 0.
    void grow() {
        std::vector<std::optional<T>> bigger(std::max<std::size_t>(16, slots_.size() * 2));
        for (std::size_t i = 0; i < count_; ++i) {
            bigger[i].emplace(std::move(*slots_[(head_ + i) & (slots_.size() - 1)]));
        }
        slots_.swap(bigger);
        head_ = 0;
    }

    std::vector<std::optional<T>> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

template <class T>
class lifo_order {
public:
    void push(T&& item) { items_.push_back(std::move(item)); }
    // Below the reserved capacity: goes under every item.
    void push_oldest(T&& item) noexcept { items_.insert(items_.begin(), std::move(item)); }
    void reserve(std::size_t items) { items_.reserve(items); }
    T pop() noexcept {
        T item = std::move(items_.back());
        items_.pop_back();
        return item;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::vector<T> items_;
};

// Pops the least item under Compare first (asyncio.PriorityQueue and heapq pop the
// smallest); Compare must not throw.
template <class T, class Compare>
class priority_order {
public:
    void push(T&& item) {
        items_.push_back(std::move(item));
        std::push_heap(items_.begin(), items_.end(), later());
    }
    // Below the reserved capacity; the heap places it by Compare alone.
    void push_oldest(T&& item) noexcept { push(std::move(item)); }
    void reserve(std::size_t items) { items_.reserve(items); }
    T pop() noexcept {
        std::pop_heap(items_.begin(), items_.end(), later());
        T item = std::move(items_.back());
        items_.pop_back();
        return item;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    // The std heap algorithms keep the greatest on top: ordering by "comes later" keeps the
    // least under Compare there.
    auto later() const noexcept {
        return [this](const T& a, const T& b) { return compare_(b, a); };
    }

    std::vector<T> items_;
    [[no_unique_address]] Compare compare_{};
};

} // namespace weft::detail
