// Fork-join beyond spawn cost, in weft and in oneTBB's task_group in the same binary, at 1
// and 2 threads: the nqueens and recursive matmul workloads of bench/forkjoin_workloads.hpp,
// reported as wall time per task (nqueens, counter ns_per_task) and per node of the matmul
// recursion (ns_per_node, which includes the node's share of the serial block multiplies).
// A weft iteration is one weft::run; a TBB iteration runs in a task_arena made once per
// benchmark with the same thread count. Each benchmark runs its workload once untimed, then
// checks every result: nqueens' solution count, and every entry of the matmul product
// against a serial multiply (one pass over its 1,048,576 entries in each timed iteration,
// small beside the multiply).
#include <cstddef>
#include <functional>
#include <numeric>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <weft/weft.hpp>

#include "checked_measure.hpp"
#include "forkjoin_workloads.hpp"

namespace {

using namespace weft_bench;

void BM_nqueens_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft nqueens", nqueens_solutions, nqueens_tasks,
            [&] { return weft::run(nqueens(queens{}, 0), options); });
}

void BM_nqueens_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure(state, "tbb nqueens", nqueens_solutions, nqueens_tasks,
            [&] { return arena.execute([] { return nqueens_tbb(queens{}, 0); }); });
}

// The inputs and their product by one serial multiply of the whole matrices, made once.
class matmul_problem {
public:
    static const matmul_problem& instance() {
        static const matmul_problem problem;
        return problem;
    }

    const matmul_inputs& inputs() const { return inputs_; }
    std::size_t entries() const { return expected_.size(); }

    // How many entries of `c` differ from the serial product: 0 when it is right.
    long mismatches(const std::vector<double>& c) const {
        return static_cast<long>(std::inner_product(expected_.begin(), expected_.end(), c.begin(),
                                                    std::size_t{0}, std::plus<>(),
                                                    std::not_equal_to<>()));
    }

private:
    matmul_problem() : expected_(inputs_.a.size()) { multiply_serially(inputs_.into(expected_)); }

    matmul_inputs inputs_;
    std::vector<double> expected_;
};

// Times `multiply` (taking the root block_product) on the shared problem, checking every
// entry of the product.
template <class Multiply>
void measure_matmul(benchmark::State& state, const char* what, Multiply multiply) {
    const matmul_problem& problem = matmul_problem::instance();
    std::vector<double> product(problem.entries());
    measure(
        state, what, 0, matmul_nodes,
        [&] {
            multiply(problem.inputs().into(product));
            return problem.mismatches(product);
        },
        "ns_per_node");
}

void BM_matmul_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure_matmul(state, "weft matmul mismatches",
                   [&](const block_product& root) { weft::run(matmul(root), options); });
}

void BM_matmul_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure_matmul(state, "tbb matmul mismatches",
                   [&](const block_product& root) { arena.execute([&] { matmul_tbb(root); }); });
}

BENCHMARK(BM_nqueens_weft)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_nqueens_tbb)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_matmul_weft)->Apply(thread_counts)->Iterations(5);
BENCHMARK(BM_matmul_tbb)->Apply(thread_counts)->Iterations(5);

} // namespace
