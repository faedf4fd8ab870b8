// Where the values of context variables live (weft::context_var, asyncio's contextvars).
//
// A context is an immutable list of (variable, value) pairs shared by pointer: a set() makes
// a new list, so a task copies its creator's context in O(1) at launch and what either does
// afterwards never shows in the other, as asyncio's copy_context() rule has it. Who owns the
// context the calling thread sees:
//   - a task: its own, copied from its creator's at launch (none if the creator had none);
//   - a gather child: its own once it sets a variable; until then the enclosing strand's,
//     which is suspended on the gather meanwhile, so reading it is as good as a copy;
//   - a gather child standing for a block asyncio runs inline (a timeout's body): the
//     enclosing strand's, which its sets change, as in asyncio;
//   - code on no strand (a thread outside any runtime, a to_thread call): the thread's own,
//     which a to_thread call sets to its caller's for the call.
// Strand contexts are kept in a side table keyed by the root's strand word, and the root's
// promise flags that it has one, so that its destructor forgets it; a frame never given a
// context pays nothing, and a program that never sets a variable pays a load per spawn.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

struct context_value {
    std::uint64_t variable; // the context_var's id
    std::shared_ptr<const void> value;
};
using context = std::vector<context_value>;
using context_ptr = std::shared_ptr<const context>;

// The context the calling thread sees (null: an empty one).
context_ptr current_context() noexcept;

// Makes `replacement` the context of the calling thread's owner of its context (above), and
// returns that owner's identity, which a context_var token records.
const void* replace_current_context(context_ptr replacement);

// The identity replace_current_context would return, without replacing anything.
const void* current_context_owner() noexcept;

// The calling thread's own context, off any strand, is `scoped` while the scope lives.
class thread_context_scope {
public:
    explicit thread_context_scope(context_ptr scoped) noexcept;
    ~thread_context_scope();
    thread_context_scope(const thread_context_scope&) = delete;
    thread_context_scope& operator=(const thread_context_scope&) = delete;

private:
    context_ptr saved_;
};

} // namespace weft::detail
