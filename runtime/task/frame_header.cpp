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
} // namespace

void release_task(frame_header* header, unretrieved_check check) noexcept {
    // A count of 1 is the caller's reference alone, and nobody can make a new one without
    // holding one (all_tasks() makes one only to a task the registry lists, which it does
    // while the running reference is held), so the last reference needs no RMW: a task
    // awaited through its handle ends first and leaves the handle's release a load. The
    // count goes to 0 all the same, which the frame's operator delete reads to tell a
    // teardown from this. acquire: 1 was written by the release RMW of the previous holder
    // to leave, which ends the release sequence of every holder's before it, so their uses
    // happen before the destruction. relaxed store: the destruction that reads it is on
    // this thread.
    if (header->refs.load(std::memory_order_acquire) == 1) {
        header->refs.store(0, std::memory_order_relaxed);
    } else if (header->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        // acq_rel: release publishes this holder's use of the task; the last holder
        // acquires every other holder's before it destroys the frame.
        return;
    }
    end_last_reference(header, check);
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
    // The frame is destroyed: its storage is ours until the header goes with it.
    ::new (header->frame()) std::size_t(allocated_bytes);
    // relaxed: published by the release half of the fetch_sub below; an RMW, since a
    // holder of a handle may be setting another flag meanwhile.
    header->flags.fetch_or(task_flag::torn_down, std::memory_order_relaxed);
    // acq_rel: as in release_task.
    if (header->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        return;
    }
    // relaxed: as in release_task.
    forget_side_records(*header, header->flags.load(std::memory_order_relaxed));
    free_header_and_frame(header);
}

} // namespace weft::detail
