// The generator registry (generator_registry.hpp) and the hooks generator_node.hpp declares
// for the header-only generator, which reach the running runtime's registry through the
// calling thread's worker.
#include "scheduler/generator_registry.hpp"

#include <mutex>

#include "scheduler/runtime.hpp"
#include "scheduler/worker.hpp"

namespace weft::detail {

generator_registry::~generator_registry() {
    // The runtime's threads have been joined: nothing else touches the nodes now.
    for (generator_node* node = head_; node != nullptr; node = node->next) {
        node->listed = false;
        // relaxed: the owner reads it after run returns, ordered by the threads' joins.
        node->registry.store(nullptr, std::memory_order_relaxed);
    }
}

void generator_registry::add(generator_node& node) noexcept {
    const std::scoped_lock held(lock_);
    node.prev = nullptr;
    node.next = head_;
    if (head_ != nullptr) {
        head_->prev = &node;
    }
    head_ = &node;
    node.listed = true;
    // relaxed: read by the threads that drive the generator, after its claim (an acquire).
    node.registry.store(this, std::memory_order_relaxed);
}

void generator_registry::unlink(generator_node& node) noexcept {
    (node.prev != nullptr ? node.prev->next : head_) = node.next;
    if (node.next != nullptr) {
        node.next->prev = node.prev;
    }
    node.listed = false;
}

void generator_registry::remove(generator_node& node) noexcept {
    const std::scoped_lock held(lock_);
    if (node.listed) {
        unlink(node);
    }
    if (!node.claimed) {
        // release: an owner reading null frees the frame after this generator's last step.
        node.registry.store(nullptr, std::memory_order_release);
    }
}

generator_release generator_registry::release(generator_node& node, bool on_own_worker) noexcept {
    const std::scoped_lock held(lock_);
    if (node.claimed) {
        node.orphaned = true;
        return generator_release::left_to_finalizer;
    }
    const bool was_listed = node.listed;
    if (was_listed) {
        unlink(node);
    }
    // relaxed: the owner's own thread; nobody else reads the node once it is unlisted.
    node.registry.store(nullptr, std::memory_order_relaxed);
    return was_listed && on_own_worker ? generator_release::close_on_worker
                                       : generator_release::free_now;
}

bool generator_registry::end_claim(generator_node& node) noexcept {
    const std::scoped_lock held(lock_);
    node.claimed = false;
    // release: an owner reading null frees the frame after the finalizer's last step.
    node.registry.store(nullptr, std::memory_order_release);
    return node.orphaned;
}

std::vector<generator_node*> generator_registry::claim_suspended() {
    std::vector<generator_node*> claimed;
    const std::scoped_lock held(lock_);
    for (generator_node* node = head_; node != nullptr;) {
        generator_node* const following = node->next;
        generator_state expected = generator_state::suspended;
        // acquire: the last driver's writes to the frame, released when it handed back.
        if (node->state.compare_exchange_strong(expected, generator_state::running,
                                                std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
            unlink(*node);
            node->claimed = true;
            claimed.push_back(node);
        }
        node = following;
    }
    return claimed;
}

void list_generator(generator_node& node) noexcept {
    if (worker* here = worker::current()) {
        here->owner().generators().add(node);
    }
}

void unlist_generator(generator_node& node) noexcept {
    // relaxed: set by this generator's own start, or ordered before this step by its claim.
    if (generator_registry* registry = node.registry.load(std::memory_order_relaxed)) {
        registry->remove(node);
    }
}

generator_release release_generator(generator_node& node) noexcept {
    // acquire: pairs with the release that cleared it, so freeing follows the last step.
    generator_registry* registry = node.registry.load(std::memory_order_acquire);
    if (registry == nullptr) {
        return generator_release::free_now;
    }
    worker* here = worker::current();
    return registry->release(node, here != nullptr && &here->owner() == &registry->owner());
}

void launch_closer(frame_header* closer) noexcept {
    worker* here = worker::current();
    here->owner().launch(closer, std::coroutine_handle<>::from_address(closer->frame()), 1, here);
}

bool end_finalizer_claim(generator_node& node) noexcept {
    // relaxed: the finalizer claimed the node, so its registry is still set.
    return node.registry.load(std::memory_order_relaxed)->end_claim(node);
}

} // namespace weft::detail
