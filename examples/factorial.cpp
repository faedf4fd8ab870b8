// factorial: the asyncio tutorial's gather example. Three factorials computed one step a
// second, gathered; with one worker the lines come in exactly asyncio's order.
//
//     factorial [--virtual] [workers]
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "asyncio_tutorial.hpp"

int main(int argc, char** argv) {
    bool virtual_time = false;
    std::size_t workers = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--virtual") == 0) {
            virtual_time = true;
        } else {
            workers = std::strtoul(argv[i], nullptr, 10);
        }
    }
    tutorial::line_printer out(std::cout);
    const std::vector<long> results =
        weft::run(tutorial::gather_factorials(out),
                  weft::run_options{.workers = workers, .virtual_time = virtual_time});
    std::cout << "[" << results[0] << ", " << results[1] << ", " << results[2] << "]\n";
}
