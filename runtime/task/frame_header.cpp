// Lifetime of task frames and their headers; see include/weft/detail/frame_header.hpp.
#include <weft/detail/cancel_record.hpp>
#include <weft/detail/frame_allocator.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>

#include <cstdio>
#include <exception>

#include "task/exception_handler.hpp"

namespace weft::detail {

namespace {
void free_header_and_frame(frame_header* header) noexcept {
    const std::size_t bytes = header->allocated_bytes;
    header->~frame_header();
    deallocate_frame(header, bytes);
}

// The last reference to a task: frees a torn-down frame, or checks the result and
// destroys the frame.
void end_last_reference(frame_header* header, unretrieved_check check) noexcept {
    // relaxed: set before the teardown's release of its reference, which we acquired.
    if (header->torn_down.load(std::memory_order_relaxed)) {
        free_header_and_frame(header);
    } else {
        check(header);
        destroy_task_frame(std::coroutine_handle<>::from_address(header->frame()));
    }
}

// The same for a task that has a cancel record, which goes first. Out of line and reached
// by a tail call, so that release_task's common path keeps needing no stack frame.
[[gnu::noinline]] void end_last_reference_with_record(frame_header* header,
                                                      unretrieved_check check) noexcept {
    forget_cancel_record(*header);
    end_last_reference(header, check);
}
} // namespace

void release_task(frame_header* header, unretrieved_check check) noexcept {
    // acq_rel: release publishes this holder's use of the task; the last holder acquires
    // every other holder's before it destroys the frame.
    if (header->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        return;
    }
    // relaxed: set by a canceller holding a reference, whose release we acquired.
    if (header->has_cancel_record.load(std::memory_order_relaxed)) [[unlikely]] {
        end_last_reference_with_record(header, check);
        return;
    }
    end_last_reference(header, check);
}

void report_unretrieved(std::exception_ptr error, unretrieved_source source) noexcept {
    if (const exception_handler* handler = running_exception_handler()) {
        try {
            (*handler)(error);
        } catch (...) {
            std::fputs("weft: the exception handler threw; its exception is dropped\n", stderr);
        }
        return;
    }
    const char* format = source == unretrieved_source::task
                             ? "weft: a task failed and its exception was never retrieved: %s\n"
                             : "weft: a future's exception was never retrieved: %s\n";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& failure) {
        std::fprintf(stderr, format, failure.what());
    } catch (...) {
        std::fprintf(stderr, format, "an exception that is not a std::exception");
    }
}

void promise_base::free_frame_storage(frame_header* header) noexcept {
    // acquire: pairs with release_task. The count is non-zero here only when shutdown
    // destroys a pending task that still has handles or its running reference.
    if (header->refs.load(std::memory_order_acquire) != 0) {
        // relaxed: published by the release half of the fetch_sub below.
        header->torn_down.store(true, std::memory_order_relaxed);
        // acq_rel: as in release_task.
        if (header->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
            return;
        }
        // relaxed: as in release_task.
        if (header->has_cancel_record.load(std::memory_order_relaxed)) {
            forget_cancel_record(*header);
        }
    }
    free_header_and_frame(header);
}

} // namespace weft::detail
