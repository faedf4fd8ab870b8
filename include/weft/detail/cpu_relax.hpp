// A hint to the processor that the caller is spinning on a shared location.
#pragma once

namespace weft::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

} // namespace weft::detail
