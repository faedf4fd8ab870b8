// The thread's running strand; see include/weft/detail/running_strand.hpp. Only its own
// thread reads or writes it.
#include <weft/detail/running_strand.hpp>

#include "task/running_strand.hpp"

namespace weft::detail {

constinit thread_local strand_word* this_thread_strand = nullptr;

void enter_strand(strand_word* strand) noexcept {
    this_thread_strand = strand;
}

strand_word* running_strand() noexcept {
    return this_thread_strand;
}

} // namespace weft::detail
