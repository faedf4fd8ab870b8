// sleepy: the asyncio tutorial's two sleep programs. Awaiting two 10 s sleeps in a row
// takes 20 s; two tasks sleeping 10 s each take 10 s together.
//
//     sleepy [--virtual]     (--virtual: in virtual time, instantly, with the same output)
#include <cstring>
#include <iostream>

#include "asyncio_tutorial.hpp"

int main(int argc, char** argv) {
    const bool virtual_time = argc > 1 && std::strcmp(argv[1], "--virtual") == 0;
    tutorial::line_printer out(std::cout);
    const weft::run_options options{.virtual_time = virtual_time};
    weft::run(tutorial::sleepy_coro(out), options);
    weft::run(tutorial::sleepy_task(out), options);
}
