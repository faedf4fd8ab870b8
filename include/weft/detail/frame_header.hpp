// The header that precedes every frame allocated by a weft promise. It holds what a task
// needs beyond its coroutine: the shared-ownership count, the list of awaiters, the links
// of the runtime's registry of pending tasks, and flags for what side tables know of it.
//
// Why outside the frame: the runtime may have to destroy a pending task's frame at
// shutdown while task handles to it still exist. The header outlives the frame in that
// case, so those handles keep a valid count and see the task as torn down; the memory is
// freed when the last of the frame and the handles is gone (the destroyed frame's first
// word then keeps the allocation's size, which the header has no room for).
//
// Invariants: a task's reference count (the handles, and 1 for the running task until it
// has ended and left the registry) is kept in its waiter list's word, or once it outgrows
// the word in `spilled_refs`. It is 0 for a frame that is not a task (a coroutine awaited
// inline or owned by a gather). The frame is destroyed when a task ends with no handle, or
// when the last handle goes.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/waiter_list.hpp>

namespace weft::detail {

struct frame_header;

// Reports a finished task's exception if nobody retrieved it (typed: it reads the result).
using unretrieved_check = void (*)(frame_header* header) noexcept;
// Ends the strand of a task whose completion found a cancellation pending, and consumes it
// (typed: it may end the task cancelled; promise.hpp's end_task_cancelled).
using pending_cancel_end = void (*)(frame_header* header) noexcept;

// The flags of frame_header::flags. Two bits name the side tables that may hold a record of
// the task: a task pays for a feature only once it is used on it. One more, set before the
// launch and never cleared, marks a task the runtime runs for itself (a done callbacks'
// runner, a generator's closer), which current_task() and all_tasks() do not show. The last
// two record the teardown's destruction of the frame and the reading of an exception.
namespace task_flag {
inline constexpr std::uint8_t cancel_record = 1; // cancel_record.hpp
inline constexpr std::uint8_t name_record = 2;   // task_name.hpp
inline constexpr std::uint8_t side_records = cancel_record | name_record;
inline constexpr std::uint8_t internal = 4; // not a record: an internal task
// The frame was destroyed while references remained (runtime shutdown).
inline constexpr std::uint8_t torn_down = 8;
// Somebody read the task's exception (see release_task); never set for a value, which is
// not reported either way, so that reading a value costs no RMW.
inline constexpr std::uint8_t exception_retrieved = 16;
} // namespace task_flag

struct alignas(16) frame_header {
    // The reference count once it has outgrown the waiter list's word (waiter_list.hpp).
    std::atomic<std::uint32_t> spilled_refs{0};
    std::uint16_t registry_shard = 0;
    // task_flag bits. Each is set by an RMW on a rare path (a record made, the teardown, an
    // exception read), so that none of them is lost to another.
    std::atomic<std::uint8_t> flags{0};
    // Set, on the destroying thread, just before a task's frame is destroyed: an exception
    // that a destructor throws then must not run the frame's final suspension.
    bool being_destroyed = false;
    waiter_list waiters;
    frame_header* registry_prev = nullptr;
    frame_header* registry_next = nullptr;

    // The frame starts right after its header (promise_base::operator new lays them
    // out so). Integer arithmetic: the header is outside the object the frame pointer
    // points into, which pointer arithmetic may not express.
    void* frame() noexcept {
        return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(this) +
                                       sizeof(frame_header));
    }
    static frame_header* of(void* frame) noexcept {
        return reinterpret_cast<frame_header*>(reinterpret_cast<std::uintptr_t>(frame) -
                                               sizeof(frame_header));
    }

    // The task's references, as the invariants above count them.
    void set_references(std::uint32_t count) noexcept { waiters.set_count(count, spilled_refs); }
    // A new reference, made from one the caller holds. Out of line: copies of a handle are
    // rare on the task path, and every caller need not carry the count's CAS loop.
    [[gnu::noinline]] void add_reference() noexcept;
    bool referenced() const noexcept { return waiters.counted(spilled_refs); }

    // Before the launch, on the launching thread: a task of the runtime's own.
    void mark_internal() noexcept {
        // relaxed: the launch that shares the task publishes it.
        flags.fetch_or(task_flag::internal, std::memory_order_relaxed);
    }
    bool internal() const noexcept {
        // relaxed: set before the launch, which the reader's view of the task follows.
        return (flags.load(std::memory_order_relaxed) & task_flag::internal) != 0;
    }
    bool torn_down() const noexcept {
        // relaxed: set by the teardown before its release of the running reference, which
        // every reader acquired (see the readers).
        return (flags.load(std::memory_order_relaxed) & task_flag::torn_down) != 0;
    }

    // Where a task's strand word is, from the frame's start: the promise's second word
    // (promise.hpp), and both compilers place the promise right after the frame's two
    // function pointers (make_task checks both, at no cost: the compiler folds the check).
    static constexpr std::size_t task_strand_offset = 3 * sizeof(void*);
    strand_word& task_strand() noexcept {
        return *reinterpret_cast<strand_word*>(reinterpret_cast<std::uintptr_t>(frame()) +
                                               task_strand_offset);
    }
};

static_assert(sizeof(frame_header) % alignof(std::max_align_t) == 0);
static_assert(sizeof(frame_header) <= 32, "every frame, a sleeping one included, pays for it");

// Destroys a task's frame (suspended anywhere, or ended); every destruction of a task frame
// goes through it, and promise.hpp's destroy_frame serves every other weft frame. A
// destructor that throws while the frame's locals are destroyed ends the program with
// std::terminate, as an exception leaving a destructor does. Only a task's frame is known to
// have a header: clang may allocate a coroutine awaited inline inside its awaiter's frame.
inline void destroy_task_frame(std::coroutine_handle<> handle) noexcept {
    frame_header::of(handle.address())->being_destroyed = true;
    handle.destroy();
}

// Drops one task reference; the last one runs `check` on a finished task, then destroys
// the frame (or frees a torn-down one). A null `check` is a reference that does not know
// the task's result type: the check complete_task left in the waiter list is run instead.
void release_task(frame_header* header, unretrieved_check check) noexcept;

// Ends a task's strand (end_task_strand, under the waiter list's lock), marks the task done,
// wakes its waiters and drops its running reference: with nobody waiting, one CAS and one
// store. The list keeps `check` for an untyped last reference. A cancellation found pending
// goes to `cancelled` first, with the list unlocked.
void complete_and_release_task(frame_header* header, const unretrieved_check* check,
                               pending_cancel_end cancelled) noexcept;

// The same for a task whose running reference stays held (a task another worker
// registered, which leaves the registry later): marks it done and wakes its waiters.
void complete_task_keeping_reference(frame_header* header, const unretrieved_check* check,
                                     pending_cancel_end cancelled) noexcept;

// Hands an exception nobody retrieved to the current runtime's exception handler, or
// writes it to stderr with the task's name (asyncio's "Task exception was never
// retrieved", "Future exception was never retrieved"). `task` is null for a future.
[[gnu::noinline]] void report_unretrieved(std::exception_ptr error, frame_header* task) noexcept;

} // namespace weft::detail
