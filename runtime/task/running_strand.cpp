// The thread's running strand; see include/weft/detail/running_strand.hpp. Only its own
// thread reads or writes it.
#include <weft/detail/running_strand.hpp>

namespace weft::detail {

[[gnu::tls_model("initial-exec")]] constinit thread_local strand_word* this_thread_strand = nullptr;

void enter_strand_out_of_line(strand_word* strand) noexcept {
    this_thread_strand = strand;
}

bool start_strand_out_of_line(strand_word& strand, bool ignores_pending) noexcept {
    return start_strand_here(strand, ignores_pending);
}

} // namespace weft::detail
