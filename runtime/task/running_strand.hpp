// The thread's running strand (include/weft/detail/running_strand.hpp), for the worker loop,
// which clears it before each step. The loop is not a coroutine, so it may reach the
// thread_local directly.
#pragma once

#include <weft/detail/cancellation.hpp>

namespace weft::detail {

// Initial-exec: a library built as position-independent code would otherwise reach it as
// if through __tls_get_addr, which costs each access the registers a call clobbers.
[[gnu::tls_model("initial-exec")]] extern constinit thread_local strand_word* this_thread_strand;

} // namespace weft::detail
