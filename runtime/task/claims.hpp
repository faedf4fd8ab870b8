// The claims a thread holds on strand words while its request_cancel interrupts their
// targets (runtime/task/cancellation.cpp keeps the list): what tells a request that has gone
// round a cycle of forwarded cancellations. Shared with the cancel records
// (cancel_record.cpp), which must answer a cycle without making a request of their own.
#pragma once

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

// True while this thread's request_cancel holds `word`'s target claimed, further up a chain
// of forwarded cancellations: a request for it now has gone round a cycle of waits.
bool claimed_by_this_thread(const strand_word& word) noexcept;

} // namespace weft::detail
