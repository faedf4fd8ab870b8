// One workload of spawn_workloads.hpp or forkjoin_workloads.hpp, run once on weft or on
// oneTBB, for bench/instructions.sh to count its instructions under callgrind:
//
//     instructions_driver WORKLOAD weft|tbb [WORKERS] [--baseline]
//
// WORKLOAD is skynet, skynet_vector, fib, spawn_join, nqueens or matmul. It prints "tasks N", the
// tasks (or matmul nodes) the workload runs, and exits 1 if the result is wrong. With --baseline it
// does everything but the workload itself: it makes the workload's inputs, starts the same
// runtime, runs an empty coroutine (weft) or lambda (TBB) on it, and computes the check,
// without judging it; the difference of the two runs is the workload's own cost.
// matmul is checked by a sum identity (sum of C = sum over k of A's column k sum times B's
// row k sum), which costs far less than the serial multiply forkjoin_bench compares with.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <tbb/task_arena.h>
#include <weft/weft.hpp>

#include "forkjoin_workloads.hpp"
#include "spawn_workloads.hpp"

namespace {

using namespace weft_bench;

// Runs a workload on the runtime the command line chose, or its empty stand-in.
class runner {
public:
    runner(bool on_weft, std::size_t workers, bool baseline)
        : on_weft_(on_weft), workers_(workers), baseline_(baseline) {}

    // weft_body() makes the weft::coro<long> to run; tbb_body() is run in a task_arena.
    template <class WeftBody, class TbbBody>
    long run(WeftBody weft_body, TbbBody tbb_body) const {
        if (on_weft_) {
            const weft::run_options options{.workers = workers_};
            return weft::run(baseline_ ? nothing() : weft_body(), options);
        }
        tbb::task_arena arena(static_cast<int>(workers_));
        return baseline_ ? arena.execute([] { return 0L; }) : arena.execute(tbb_body);
    }

private:
    bool on_weft_;
    std::size_t workers_;
    bool baseline_;
};

weft::coro<long> matmul_returning_zero(block_product root) {
    co_await matmul(root);
    co_return 0;
}

// sum(C) - sum over k of (column k of A summed) * (row k of B summed): 0 when C = A * B.
long matmul_sum_error(const matmul_inputs& inputs, const std::vector<double>& c) {
    double expected = 0;
    for (std::size_t inner = 0; inner < matmul_n; ++inner) {
        double column_sum = 0;
        double row_sum = 0;
        for (std::size_t other = 0; other < matmul_n; ++other) {
            column_sum += inputs.a[other * matmul_n + inner];
            row_sum += inputs.b[inner * matmul_n + other];
        }
        expected += column_sum * row_sum;
    }
    return static_cast<long>(std::accumulate(c.begin(), c.end(), 0.0) - expected);
}

long run_matmul(const runner& on) {
    const matmul_inputs inputs;
    std::vector<double> product(matmul_n * matmul_n);
    const block_product root = inputs.into(product);
    const long zero = on.run([&] { return matmul_returning_zero(root); },
                             [&] {
                                 matmul_tbb(root);
                                 return 0L;
                             });
    return zero + matmul_sum_error(inputs, product);
}

struct workload {
    const char* name;
    long tasks;
    long expected;
    long (*run)(const runner&);
};

const workload workloads[] = {
    {"skynet", skynet_tasks, skynet_sum,
     [](const runner& on) {
         return on.run([] { return skynet(0, skynet_leaves); },
                       [] { return skynet_tbb(0, skynet_leaves); });
     }},
    {"skynet_vector", skynet_tasks, skynet_sum,
     [](const runner& on) {
         return on.run([] { return skynet_vector(0, skynet_leaves); },
                       [] { return skynet_tbb(0, skynet_leaves); });
     }},
    {"fib", fib_calls, fib_result,
     [](const runner& on) {
         return on.run([] { return fib(fib_n); }, [] { return fib_tbb(fib_n); });
     }},
    {"spawn_join", spawn_join_tasks, spawn_join_sum,
     [](const runner& on) {
         return on.run([] { return spawn_and_join(spawn_join_tasks); },
                       [] { return spawn_and_join_tbb(spawn_join_tasks); });
     }},
    {"nqueens", nqueens_tasks, nqueens_solutions,
     [](const runner& on) {
         return on.run([] { return nqueens(queens{}, 0); },
                       [] { return nqueens_tbb(queens{}, 0); });
     }},
    {"matmul", matmul_nodes, 0, run_matmul},
};

int usage() {
    std::fprintf(stderr, "usage: instructions_driver "
                         "skynet|skynet_vector|fib|spawn_join|nqueens|matmul "
                         "weft|tbb [WORKERS] [--baseline]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 5) {
        return usage();
    }
    const std::string runtime = argv[2];
    const std::size_t workers = argc > 3 ? std::stoul(argv[3]) : 1;
    const bool baseline = argc > 4 && std::strcmp(argv[4], "--baseline") == 0;
    if ((runtime != "weft" && runtime != "tbb") || workers == 0 || (argc > 4 && !baseline)) {
        return usage();
    }
    for (const workload& candidate : workloads) {
        if (std::strcmp(candidate.name, argv[1]) != 0) {
            continue;
        }
        const long result = candidate.run(runner(runtime == "weft", workers, baseline));
        if (!baseline && result != candidate.expected) {
            std::fprintf(stderr, "%s on %s returned %ld, expected %ld\n", candidate.name,
                         runtime.c_str(), result, candidate.expected);
            return 1;
        }
        std::printf("tasks %ld\n", candidate.tasks);
        return 0;
    }
    return usage();
}
