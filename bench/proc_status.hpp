// Reading a memory figure of this process from Linux's /proc/self/status, for the
// benchmarks that report memory beside time, and restarting its peak (VmHWM) so that a
// benchmark can read the peak of one phase of its own.
#pragma once

#include <fstream>
#include <string>

namespace weft_bench {

// The value of `field` ("VmRSS", "VmHWM", ...) in MiB, or 0 if it is not there.
inline double proc_status_mib(const std::string& field) {
    std::ifstream status("/proc/self/status");
    const std::string prefix = field + ":";
    for (std::string line; std::getline(status, line);) {
        if (line.rfind(prefix, 0) == 0) {
            return std::stod(line.substr(prefix.size())) / 1024.0; // the value is in kB
        }
    }
    return 0;
}

// Sets VmHWM, the peak resident set size, back to the current one (Linux 4.0 and later).
inline void reset_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

} // namespace weft_bench
