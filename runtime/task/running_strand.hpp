// The thread's running strand (include/weft/detail/running_strand.hpp), for the worker loop,
// which clears it before each step. The loop is not a coroutine, so it may reach the
// thread_local directly.
#pragma once

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

extern constinit thread_local strand_word* this_thread_strand;

} // namespace weft::detail
