// generator_node: how a started weft::generator is known to the runtime it runs on, so that
// run can close it at shutdown (asyncio's shutdown_asyncgens) and a generator whose owner
// lets go of it mid-iteration is closed on a worker. The node lives in the generator's
// promise; the registry (runtime/scheduler/generator_registry.hpp) links the nodes of every
// generator started on its runtime and not yet finished.
//
// Who may resume the frame: whoever moves `state` from suspended (or unstarted) to running
// with a compare-exchange: the consumer's next(), an aclose(), or run's finalizer. The
// links and the three flags are guarded by the registry's lock. `registry` is set when the
// generator starts on a runtime and cleared, under that lock, when it leaves the registry
// for good (it ended, its owner let go of it, the finalizer's claim ended, the runtime
// ended), so an owner reading it null knows no registry will touch the node again.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

class generator_registry; // runtime/scheduler/generator_registry.hpp
struct frame_header;

enum class generator_state : std::uint8_t { unstarted, suspended, running, finished };

struct generator_node {
    std::atomic<generator_state> state{generator_state::unstarted};
    generator_node* prev = nullptr;
    generator_node* next = nullptr;
    bool listed = false;
    // Taken by run's finalizer, which is closing it.
    bool claimed = false;
    // The owner let go of it while claimed: the finalizer frees the frame when done.
    bool orphaned = false;
    std::atomic<generator_registry*> registry{nullptr};
    // The generator's coroutine frame, for make_finalizer.
    void* frame = nullptr;
    // Makes the task (a frame with its header, not yet launched) that closes this claimed
    // generator, then ends the claim (end_finalizer_claim).
    frame_header* (*make_finalizer)(generator_node& node) = nullptr;
};

// Lists `node` in the registry of the runtime whose worker this thread is (none off one).
[[gnu::noinline]] void list_generator(generator_node& node) noexcept;

// Takes a generator that ended out of its registry.
[[gnu::noinline]] void unlist_generator(generator_node& node) noexcept;

// What the owner of a generator does with the frame when it lets go of it.
enum class generator_release : std::uint8_t {
    free_now,        // not started, finished, or nowhere to run its cleanup: destroy it
    close_on_worker, // suspended mid-iteration: launch_closer a task that closes it
    left_to_finalizer,
};
[[gnu::noinline]] generator_release release_generator(generator_node& node) noexcept;

// Launches `closer` (a task nobody holds a handle to) on this thread's worker.
[[gnu::noinline]] void launch_closer(frame_header* closer) noexcept;

// The finalizer's close is over: ends the claim. True if the owner let go of the generator
// meanwhile, and the caller must destroy its frame.
[[gnu::noinline]] bool end_finalizer_claim(generator_node& node) noexcept;

} // namespace weft::detail
