// Whether any context exists (context_store.cpp), for the launches that copy the launching
// thread's context into a new task: one relaxed load when none does.
#pragma once

#include <atomic>
#include <cstddef>

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

extern std::atomic<std::size_t> contexts_live;

void inherit_context_slow(strand_word& task_strand);

// At a task's launch, on the launching thread, before the task can run: the task's strand
// starts with the context the launching thread sees.
inline void inherit_context(strand_word& task_strand) {
    // relaxed: see contexts_live.
    if (contexts_live.load(std::memory_order_relaxed) != 0) [[unlikely]] {
        inherit_context_slow(task_strand);
    }
}

} // namespace weft::detail
