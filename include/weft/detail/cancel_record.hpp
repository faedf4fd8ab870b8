// A task's cancel record: how many cancellations were requested through its handles and not
// withdrawn (asyncio's Task.cancelling() count), and the message the request pending or
// being delivered left for the task. Only a task cancelled as asyncio counts it (through a
// handle, by a wait forwarding its awaiter's cancellation, by its task group) has one: the
// records live in a table beside the frames, so a frame pays nothing for the feature, and
// a task's header only flags that its record exists, for the last reference to drop it.
// The record is guarded by its table shard's lock; a message is written only while the
// strand word shows it will reach the task (see cancel_task), and taken by the strand as
// it consumes the cancellation (note_consumed).
#pragma once

#include <cstddef>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/frame_header.hpp>

namespace weft::detail {

// weft::task::cancel: counts a request on a task that has not ended, leaves `message` for
// it (replacing the message of a request still pending, as asyncio's last cancel() wins;
// one being delivered keeps its own) and interrupts it as request_cancel does. False if
// the task had ended or was destroyed. The caller holds a handle to the task.
bool cancel_task(frame_header& header, cancel_message message) noexcept;

// A wait on the task forwarding its awaiter's cancellation to it: counted like a cancel,
// with the message of the task::cancel whose interruption forwards it, if any.
cancel_result forward_cancel_to_task(frame_header& header) noexcept;

// weft::task::cancelling: the requests counted and not withdrawn.
std::size_t cancel_requests(frame_header& header) noexcept;

// weft::task::uncancel: withdraws one counted request, never below zero, and returns how
// many are left. At zero a request not yet delivered is dropped, as asyncio 3.13 does.
std::size_t uncancel_task(frame_header& header) noexcept;

// The last reference to a task whose flags include a cancel record, before it
// frees the frame.
void forget_cancel_record(frame_header& header) noexcept;

} // namespace weft::detail
