// The contexts of strands and threads; see include/weft/detail/context_store.hpp.
//
// A strand's entry and its root's has_context flag are read and written under the lock of
// the entry's shard. A strand reads the entries of its own root and of the roots it is
// enclosed by: each was made before the strand began (an enclosing strand launched it, and
// the launch orders what came before it), or by the strand itself, or by an inline block of
// it while it waited on that block's join, which orders the block's writes before its
// resumption; the shard's lock makes each read whole.
#include <weft/detail/context_store.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>

#include <weft/detail/promise.hpp>
#include <weft/detail/running_strand.hpp>

#include "task/context_in_use.hpp"
#include "task/side_table.hpp"

namespace weft::detail {
namespace {

side_table<strand_word, context_ptr> strand_contexts;

} // namespace

// How many strand entries and non-empty thread contexts exist: none means every context is
// empty, which spares a spawn the walk. A walk that matters finds entries made before it
// (see above), and a thread sees its own context's increment, so a relaxed load never
// reads 0 while a context it could read exists: those increments precede the load in the
// count's modification order.
std::atomic<std::size_t> contexts_live{0};

namespace {

// The context of code on no strand, counted in contexts_live while it is not empty; a
// thread that ends with one gives its count back.
struct own_context {
    context_ptr value;
    ~own_context() {
        if (value != nullptr) {
            // relaxed: see contexts_live.
            contexts_live.fetch_sub(1, std::memory_order_relaxed);
        }
    }
};
thread_local own_context thread_context;

// Replaces the thread's own context, keeping contexts_live's count of non-empty ones.
void set_thread_context(context_ptr replacement) noexcept {
    const bool had = thread_context.value != nullptr;
    const bool has = replacement != nullptr;
    thread_context.value = std::move(replacement);
    if (had != has) {
        // relaxed: see contexts_live.
        if (has) {
            contexts_live.fetch_add(1, std::memory_order_relaxed);
        } else {
            contexts_live.fetch_sub(1, std::memory_order_relaxed);
        }
    }
}

// The strand whose context `strand` sees: its own root's, or an enclosing one's.
context_ptr strand_context(strand_word* strand) noexcept {
    // relaxed: see contexts_live.
    if (contexts_live.load(std::memory_order_relaxed) == 0) {
        return nullptr;
    }
    while (strand != nullptr) {
        promise_base& root = promise_base::root_of(*strand);
        {
            auto& shard = strand_contexts.shard_of(*strand);
            const std::lock_guard guard(shard.lock);
            if (root.has_context()) {
                return *shard.find(*strand);
            }
        }
        if (root.role() != frame_role::gather_child) {
            return nullptr;
        }
        strand = root.enclosing_strand();
    }
    return nullptr;
}

void store_strand_context(strand_word& strand, context_ptr replacement) {
    promise_base& root = promise_base::root_of(strand);
    auto& shard = strand_contexts.shard_of(strand);
    const std::lock_guard guard(shard.lock);
    // The replaced context goes with `replacement`, after the lock: its values' destructors
    // are the program's.
    std::swap(shard.records[&strand], replacement);
    if (!root.has_context()) {
        root.set_has_context(true);
        // relaxed: see contexts_live.
        contexts_live.fetch_add(1, std::memory_order_relaxed);
    }
}

// The strand whose context a set on `strand` replaces: an inline block's is its encloser's.
strand_word* context_owner(strand_word* strand) noexcept {
    while (strand != nullptr) {
        promise_base& root = promise_base::root_of(*strand);
        if (!root.runs_inline() || root.enclosing_strand() == nullptr) {
            return strand;
        }
        strand = root.enclosing_strand();
    }
    return nullptr;
}

} // namespace

context_ptr current_context() noexcept {
    strand_word* strand = this_thread_strand;
    return strand == nullptr ? thread_context.value : strand_context(strand);
}

const void* current_context_owner() noexcept {
    strand_word* owner = context_owner(this_thread_strand);
    return owner != nullptr ? static_cast<const void*>(owner) : &thread_context;
}

const void* replace_current_context(context_ptr replacement) {
    strand_word* owner = context_owner(this_thread_strand);
    if (owner == nullptr) {
        set_thread_context(std::move(replacement));
        return &thread_context;
    }
    store_strand_context(*owner, std::move(replacement));
    return owner;
}

thread_context_scope::thread_context_scope(context_ptr scoped) noexcept
    : saved_(thread_context.value) {
    set_thread_context(std::move(scoped));
}

thread_context_scope::~thread_context_scope() {
    set_thread_context(std::move(saved_));
}

void inherit_context_slow(strand_word& task_strand) {
    if (context_ptr inherited = current_context()) {
        store_strand_context(task_strand, std::move(inherited));
    }
}

void forget_strand_context(promise_base& root) noexcept {
    strand_word& strand = *root.strand();
    auto& shard = strand_contexts.shard_of(strand);
    context_ptr dropped; // destroyed after the lock, as in store_strand_context
    const std::lock_guard guard(shard.lock);
    const auto found = shard.records.find(&strand);
    dropped = std::move(found->second);
    shard.records.erase(found);
    // relaxed: see contexts_live.
    contexts_live.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace weft::detail
