// The table of done-callback batches (include/weft/detail/done_callbacks.hpp): for each
// source that has callbacks, one batch per runtime they were added on, each a queue of
// callbacks oldest first. Sharded by the source's address, so that unrelated sources rarely
// share a lock. A shard's lock guards its batches and is never held while a callback runs
// or is destroyed (a callback's destruction may drop the last handle to a task, whose
// frame's destruction may report an exception): what leaves the table is destroyed after
// the lock is released.
#include <weft/detail/done_callbacks.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "task/exception_handler.hpp"

namespace weft::detail {

struct done_callback_ids {
    static done_callback_id make(std::uint64_t value) noexcept { return done_callback_id(value); }
};

namespace {

struct done_batch {
    runtime* home;
    std::deque<std::unique_ptr<done_callback>> callbacks;
};

struct alignas(64) batch_shard {
    std::mutex lock;
    // Mostly one batch a source: callbacks added on several runtimes are rare.
    std::unordered_map<const waiter_list*, std::list<done_batch>> batches;
};

std::array<batch_shard, 16> shards;

std::atomic<std::uint64_t> last_id{0};

batch_shard& shard_of(const waiter_list* source) noexcept {
    return shards[(reinterpret_cast<std::uintptr_t>(source) >> 6) % shards.size()];
}

// Under the shard's lock: the batch `key`, or null.
done_batch* find_batch(batch_shard& shard, done_batch_key key) noexcept {
    const auto found = shard.batches.find(key.source);
    if (found == shard.batches.end()) {
        return nullptr;
    }
    const auto batch = std::find_if(found->second.begin(), found->second.end(),
                                    [&](const done_batch& each) { return each.home == key.home; });
    return batch == found->second.end() ? nullptr : &*batch;
}

// Under the shard's lock: erases the batch `key`, which exists, handing back its callbacks.
std::deque<std::unique_ptr<done_callback>> erase_batch(batch_shard& shard, done_batch_key key) {
    const auto found = shard.batches.find(key.source);
    std::list<done_batch>& batches = found->second;
    const auto batch = std::find_if(batches.begin(), batches.end(),
                                    [&](const done_batch& each) { return each.home == key.home; });
    std::deque<std::unique_ptr<done_callback>> left = std::move(batch->callbacks);
    batches.erase(batch);
    if (batches.empty()) {
        shard.batches.erase(found);
    }
    return left;
}

// Where a callback's exception goes without an exception handler.
void print_callback_failure(const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& failure) {
        std::fprintf(stderr, "weft: a done callback threw: %s\n", failure.what());
    } catch (...) {
        std::fputs("weft: a done callback threw something that is not a std::exception\n", stderr);
    }
}

} // namespace

done_callback_id make_done_callback_id() noexcept {
    // relaxed: the ids need only be distinct, which the RMW alone guarantees.
    return done_callback_ids::make(last_id.fetch_add(1, std::memory_order_relaxed) + 1);
}

bool enlist_done_callback(done_batch_key key, std::unique_ptr<done_callback> callback) {
    batch_shard& shard = shard_of(key.source);
    const std::lock_guard hold(shard.lock);
    if (done_batch* batch = find_batch(shard, key)) {
        batch->callbacks.push_back(std::move(callback));
        return false;
    }
    std::list<done_batch>& batches = shard.batches[key.source];
    batches.push_back(done_batch{key.home, {}});
    batches.back().callbacks.push_back(std::move(callback));
    return true;
}

std::unique_ptr<done_callback> next_done_callback(done_batch_key key) noexcept {
    batch_shard& shard = shard_of(key.source);
    const std::lock_guard hold(shard.lock);
    done_batch* batch = find_batch(shard, key);
    if (batch->callbacks.empty()) {
        erase_batch(shard, key);
        return nullptr;
    }
    std::unique_ptr<done_callback> oldest = std::move(batch->callbacks.front());
    batch->callbacks.pop_front();
    return oldest;
}

void drop_done_callbacks(done_batch_key key) noexcept {
    std::deque<std::unique_ptr<done_callback>> dropped; // destroyed after the lock is released
    batch_shard& shard = shard_of(key.source);
    const std::lock_guard hold(shard.lock);
    if (find_batch(shard, key) != nullptr) {
        dropped = erase_batch(shard, key);
    }
}

bool remove_done_callback(const waiter_list& source, done_callback_id id) noexcept {
    std::unique_ptr<done_callback> removed; // destroyed after the lock is released
    batch_shard& shard = shard_of(&source);
    const std::lock_guard hold(shard.lock);
    const auto found = shard.batches.find(&source);
    if (found == shard.batches.end()) {
        return false;
    }
    for (done_batch& batch : found->second) {
        const auto callback = std::find_if(
            batch.callbacks.begin(), batch.callbacks.end(),
            [&](const std::unique_ptr<done_callback>& each) { return each->id() == id; });
        if (callback != batch.callbacks.end()) {
            removed = std::move(*callback);
            batch.callbacks.erase(callback);
            return true;
        }
    }
    return false;
}

void run_done_callback(done_callback& callback) noexcept {
    try {
        callback.run();
    } catch (...) {
        const std::exception_ptr error = std::current_exception();
        const exception_handler* handler = running_exception_handler();
        if (handler == nullptr) {
            print_callback_failure(error);
            return;
        }
        try {
            (*handler)(error);
        } catch (...) {
            std::fputs("weft: the exception handler threw; its exception is dropped\n", stderr);
        }
    }
}

} // namespace weft::detail
