// Reading a memory figure of this process from Linux's /proc/self/status, for the
// benchmarks that report memory beside time.
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

} // namespace weft_bench
