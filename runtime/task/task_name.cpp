// The table of task names; see include/weft/detail/task_name.hpp.
#include <weft/detail/task_name.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "task/side_table.hpp"

namespace weft::detail {
namespace {

side_table<frame_header, std::string> names;

// The N of the next default name "Task-N".
std::atomic<std::uint64_t> default_names_given{0};

// Under the shard's lock; the caller holds a reference to the task.
std::string& name_record(side_table<frame_header, std::string>::shard& shard,
                         frame_header& header) {
    const auto [place, made] = shard.records.try_emplace(&header);
    if (made) {
        // relaxed: the last reference acquires the flag with the count of references, and
        // this thread releases its reference after setting it.
        header.flags.fetch_or(task_flag::name_record, std::memory_order_relaxed);
    }
    return place->second;
}

std::string default_name() {
    // relaxed: only uniqueness is asked of the numbers, which the RMW gives.
    return "Task-" +
           std::to_string(default_names_given.fetch_add(1, std::memory_order_relaxed) + 1);
}

} // namespace

std::string task_name(frame_header& header) {
    auto& shard = names.shard_of(header);
    const std::lock_guard guard(shard.lock);
    std::string& name = name_record(shard, header);
    if (name.empty()) {
        name = default_name();
    }
    return name;
}

std::string task_name_for_report(frame_header& header) {
    auto& shard = names.shard_of(header);
    {
        const std::lock_guard guard(shard.lock);
        if (const std::string* name = shard.find(header)) {
            return *name;
        }
    }
    return default_name();
}

void set_task_name(frame_header& header, std::string name) {
    auto& shard = names.shard_of(header);
    const std::lock_guard guard(shard.lock);
    name_record(shard, header) = std::move(name);
}

void forget_task_name(frame_header& header) noexcept {
    auto& shard = names.shard_of(header);
    const std::lock_guard guard(shard.lock);
    shard.records.erase(&header);
}

} // namespace weft::detail
