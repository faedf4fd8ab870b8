// The registry of a runtime's live generators (asyncio's loop._asyncgens): every
// weft::generator started on the runtime and not yet finished, so that run can close those
// still suspended once main and its tasks have ended (runtime::drain), and so that an owner
// letting go of one mid-iteration learns whether to close it on a worker or leave it to the
// finalizer that has claimed it. One lock guards the links and the flags of every node
// (generator_node.hpp); nothing blocking runs under it. A node still listed when the
// runtime ends is forgotten (its registry cleared), so its owner then frees it directly.
#pragma once

#include <vector>

#include <weft/detail/generator_node.hpp>
#include <weft/detail/spinlock.hpp>

namespace weft::detail {

class runtime;

class generator_registry {
public:
    explicit generator_registry(runtime& owner) noexcept : owner_(owner) {}
    generator_registry(const generator_registry&) = delete;
    generator_registry& operator=(const generator_registry&) = delete;
    ~generator_registry();

    runtime& owner() const noexcept { return owner_; }

    void add(generator_node& node) noexcept;
    // A generator that ended, or ignored its exit, leaves the registry.
    void remove(generator_node& node) noexcept;
    // Its owner lets go of it; `on_own_worker`: the caller is one of this runtime's workers.
    generator_release release(generator_node& node, bool on_own_worker) noexcept;
    // The finalizer's close of `node` ended; true if its owner let go of it meanwhile.
    bool end_claim(generator_node& node) noexcept;

    // Claims, and takes out, every listed generator suspended at a co_yield (one a consumer
    // is driving stays listed: its consumer holds it).
    std::vector<generator_node*> claim_suspended();

private:
    void unlink(generator_node& node) noexcept;

    runtime& owner_;
    spinlock lock_;
    generator_node* head_ = nullptr;
};

} // namespace weft::detail
