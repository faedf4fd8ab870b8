// Lifetime of task frames and their headers; see include/weft/detail/frame_header.hpp.
#include <weft/detail/cancel_record.hpp>
#include <weft/detail/frame_allocator.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/task_name.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "task/exception_handler.hpp"

namespace weft::detail {

namespace {
// A torn-down task's storage: its destroyed frame's first word keeps the size.
void free_header_and_frame(frame_header* header) noexcept {
    const std::size_t bytes = *static_cast<const std::size_t*>(header->frame());
    header->~frame_header();
    deallocate_frame(header, bytes);
}

// The last reference to a finished task runs its check, which may read the task's records
// (its name), so they go after it. A null check: the reference did not know the result
// type; the task finished (its running reference is gone and the teardown did not destroy
// it), so its waiter list keeps the check.
void check_finished(frame_header* header, unretrieved_check check) noexcept {
    if (check == nullptr) {
        check = *static_cast<const unretrieved_check*>(header->waiters.keepsake());
    }
    check(header);
}

// The last reference to a task without side records: frees a torn-down frame, or checks
// the result and destroys the frame.
void end_last_plain_reference(frame_header* header, unretrieved_check check) noexcept {
    // Set before the teardown's release of its reference, which we acquired.
    if (header->torn_down()) {
        free_header_and_frame(header);
    } else {
        check_finished(header, check);
        destroy_task_frame(std::coroutine_handle<>::from_address(header->frame()));
    }
}

// The last reference drops the task's records in the side tables (the flags' side_records).
void forget_side_records(frame_header& header, std::uint8_t flags) noexcept {
    if ((flags & task_flag::cancel_record) != 0) {
        forget_cancel_record(header);
    }
    if ((flags & task_flag::name_record) != 0) {
        forget_task_name(header);
    }
}

// The same for a task with side records.
void end_last_reference_with_records(frame_header* header, unretrieved_check check) noexcept {
    // relaxed: every flag was acquired with the count of references.
    const std::uint8_t flags = header->flags.load(std::memory_order_relaxed);
    if ((flags & task_flag::torn_down) != 0) {
        forget_side_records(*header, flags);
        free_header_and_frame(header);
        return;
    }
    check_finished(header, check);
    forget_side_records(*header, flags);
    destroy_task_frame(std::coroutine_handle<>::from_address(header->frame()));
}

// Out of line and reached by a tail call, so that release_task's common path, a load or an
// RMW, needs no stack frame.
[[gnu::noinline]] void end_last_reference(frame_header* header, unretrieved_check check) noexcept {
    // relaxed: set by a holder of a reference, whose release release_task acquired.
    if ((header->flags.load(std::memory_order_relaxed) & task_flag::side_records) != 0)
        [[unlikely]] {
        end_last_reference_with_records(header, check);
        return;
    }
    end_last_plain_reference(header, check);
}

// release_task when the waiter list's word is locked or the count spilled.
[[gnu::noinline]] void release_when_busy(frame_header* header, unretrieved_check check) noexcept {
    if (header->waiters.drop_when_busy(header->spilled_refs)) {
        end_last_reference(header, check);
    }
}

// The condition of a task's completion: its strand ended, with no request pending.
struct strand_end {
    frame_header* header;
    bool operator()() const noexcept { return end_task_strand(header->task_strand()); }
};

// Finishes a complete_and_release_task that the one-CAS form could not: `busy` (waiters, the
// count spilled, or the word locked) takes the locking form; `refused` (a cancellation
// pending) first has `cancelled` end the strand, after which the locking form goes ahead.
[[gnu::noinline]] void complete_and_release_slowly(frame_header* header,
                                                   const unretrieved_check* check,
                                                   pending_cancel_end cancelled,
                                                   waiter_list::ending first) noexcept {
    waiter_list::ending ended = first;
    if (ended == waiter_list::ending::busy) {
        ended = header->waiters.complete_dropping_one_if(check, header->spilled_refs,
                                                         strand_end{header});
    }
    if (ended == waiter_list::ending::refused) {
        cancelled(header);
        ended = header->waiters.complete_dropping_one_if(check, header->spilled_refs,
                                                         strand_end{header});
    }
    // kept: references remain (the locking form returns no `busy`).
    if (ended == waiter_list::ending::last) {
        end_last_reference(header, *check);
    }
}
} // namespace

void frame_header::add_reference() noexcept {
    waiters.add_to_count(spilled_refs);
}

void release_task(frame_header* header, unretrieved_check check) noexcept {
    // The count's argument (nobody adds to a count of 1 but its holder: all_tasks() makes a
    // reference only to a task the registry lists, which it does while the running
    // reference is held) is waiter_list::drop_unless_busy's. The count goes to 0 all the
    // same, which the frame's operator delete reads to tell a teardown from this. Every
    // call is a tail call, so the common path needs no stack frame.
    switch (header->waiters.drop_unless_busy()) {
    case waiter_list::count_drop::kept:
        return;
    case waiter_list::count_drop::last:
        end_last_reference(header, check);
        return;
    case waiter_list::count_drop::busy:
        release_when_busy(header, check);
        return;
    }
}

void complete_and_release_task(frame_header* header, const unretrieved_check* check,
                               pending_cancel_end cancelled) noexcept {
    // Every call is a tail call, so the common path needs no stack frame.
    const waiter_list::ending ended =
        header->waiters.complete_alone_dropping_one_if(check, strand_end{header});
    switch (ended) {
    case waiter_list::ending::kept:
        return;
    case waiter_list::ending::last:
        end_last_reference(header, *check);
        return;
    case waiter_list::ending::refused:
    case waiter_list::ending::busy:
        complete_and_release_slowly(header, check, cancelled, ended);
        return;
    }
}

void complete_task_keeping_reference(frame_header* header, const unretrieved_check* check,
                                     pending_cancel_end cancelled) noexcept {
    if (!header->waiters.complete_if(check, strand_end{header})) [[unlikely]] {
        cancelled(header);
        header->waiters.complete_if(check, strand_end{header});
    }
}

void report_unretrieved(std::exception_ptr error, frame_header* task) noexcept {
    if (const exception_handler* handler = running_exception_handler()) {
        try {
            (*handler)(error);
        } catch (...) {
            std::fputs("weft: the exception handler threw; its exception is dropped\n", stderr);
        }
        return;
    }
    try {
        const std::string failed = task != nullptr
                                       ? "task " + task_name_for_report(*task) + " failed and its"
                                       : std::string("a future's");
        std::string what = "an exception that is not a std::exception";
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& failure) {
            what = failure.what();
        } catch (...) {
        }
        std::fprintf(stderr, "weft: %s exception was never retrieved: %s\n", failed.c_str(),
                     what.c_str());
    } catch (...) {
        std::fputs("weft: an exception was never retrieved (and describing it failed)\n", stderr);
    }
}

void promise_base::release_torn_down_storage(frame_header* header,
                                             std::size_t allocated_bytes) noexcept {
    if (!header->referenced()) {
        // A task whose spilled count its last reference took to 0: not a teardown.
        deallocate_frame(header, allocated_bytes);
        return;
    }
    // The frame is destroyed: its storage is ours until the header goes with it.
    ::new (header->frame()) std::size_t(allocated_bytes);
    // relaxed: published by the release half of the drop below; an RMW, since a holder of
    // a handle may be setting another flag meanwhile.
    header->flags.fetch_or(task_flag::torn_down, std::memory_order_relaxed);
    if (!header->waiters.drop_from_count(header->spilled_refs)) {
        return;
    }
    // relaxed: as in release_task.
    forget_side_records(*header, header->flags.load(std::memory_order_relaxed));
    free_header_and_frame(header);
}

} // namespace weft::detail
