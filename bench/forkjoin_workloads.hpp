// The two fork-join workloads of the public C++ runtime-benchmarks suite, each written for
// weft (gather) and for oneTBB (task_group), shared by forkjoin_bench.cpp (wall time) and
// instructions_driver.cpp (instruction counts):
//   nqueens  counts the placements of nqueens_n queens; every queen placed that no earlier
//            one attacks is a task, which tries the next row
//   matmul   C = A * B for matmul_n x matmul_n doubles: each node splits its block in four
//            quadrants and runs two rounds of four products (each round writes four
//            disjoint quadrants of C), down to matmul_block, multiplied serially
// The matrices hold small integers, so every product is exact and compares equal, entry by
// entry, to a serial multiply's.
#pragma once

#include <array>
#include <cstddef>
#include <numeric>
#include <vector>

#include <tbb/task_group.h>
#include <weft/weft.hpp>

namespace weft_bench {

constexpr int nqueens_n = 12;
constexpr long nqueens_solutions = 14'200;
constexpr long nqueens_tasks = 856'189; // every board reached, from the empty one

constexpr std::size_t matmul_n = 1024;
constexpr std::size_t matmul_block = 32;
constexpr long matmul_nodes = 37'449; // 1 + 8 + ... + 8^5: five halvings from 1024 to 32

// nqueens.

// board[row] is the column of the queen in that row, for the rows already placed.
using queens = std::array<int, nqueens_n>;

inline bool queen_fits(const queens& board, int placed, int column) {
    for (int row = 0; row < placed; ++row) {
        const int shift = board[static_cast<std::size_t>(row)] - column;
        if (shift == 0 || shift == placed - row || shift == row - placed) {
            return false;
        }
    }
    return true;
}

inline queens with_queen(queens board, int placed, int column) {
    board[static_cast<std::size_t>(placed)] = column;
    return board;
}

inline weft::coro<long> nqueens(queens board, int placed) {
    if (placed == nqueens_n) {
        co_return 1;
    }
    std::vector<weft::coro<long>> children;
    children.reserve(nqueens_n);
    for (int column = 0; column < nqueens_n; ++column) {
        if (queen_fits(board, placed, column)) {
            children.push_back(nqueens(with_queen(board, placed, column), placed + 1));
        }
    }
    if (children.empty()) {
        co_return 0;
    }
    const std::vector<long> solutions = co_await weft::gather(std::move(children));
    co_return std::accumulate(solutions.begin(), solutions.end(), 0L);
}

inline long nqueens_tbb(const queens& board, int placed) {
    if (placed == nqueens_n) {
        return 1;
    }
    std::array<long, nqueens_n> solutions{};
    tbb::task_group group;
    for (int column = 0; column < nqueens_n; ++column) {
        if (queen_fits(board, placed, column)) {
            group.run([&solutions, &board, placed, column] {
                solutions[static_cast<std::size_t>(column)] =
                    nqueens_tbb(with_queen(board, placed, column), placed + 1);
            });
        }
    }
    group.wait();
    return std::accumulate(solutions.begin(), solutions.end(), 0L);
}

// matmul.

// A square block of a row-major matrix whose rows are `stride` elements apart.
template <class Element>
struct matrix_block {
    Element* origin;
    std::size_t stride;

    Element& at(std::size_t row, std::size_t column) const { return origin[row * stride + column]; }
    matrix_block quadrant(std::size_t row, std::size_t column, std::size_t half) const {
        return {origin + row * half * stride + column * half, stride};
    }
};

// One product of a node: c = a * b, or c += a * b when `accumulate`.
struct block_product {
    matrix_block<const double> a;
    matrix_block<const double> b;
    matrix_block<double> c;
    std::size_t size;
    bool accumulate;
};

inline void multiply_serially(const block_product& product) {
    for (std::size_t row = 0; row < product.size; ++row) {
        if (!product.accumulate) {
            for (std::size_t column = 0; column < product.size; ++column) {
                product.c.at(row, column) = 0;
            }
        }
        for (std::size_t inner = 0; inner < product.size; ++inner) {
            const double left = product.a.at(row, inner);
            for (std::size_t column = 0; column < product.size; ++column) {
                product.c.at(row, column) += left * product.b.at(inner, column);
            }
        }
    }
}

// Calls run(p00, p01, p10, p11) with round `inner`'s four quadrant products of `product`:
// C(i, j) (+)= A(i, inner) * B(inner, j). Round 0 keeps the node's `accumulate`; round 1 adds.
template <class Run>
auto run_round(const block_product& product, std::size_t inner, Run run) {
    const std::size_t half = product.size / 2;
    const bool accumulate = product.accumulate || inner == 1;
    const auto quadrant = [&](std::size_t row, std::size_t column) {
        return block_product{product.a.quadrant(row, inner, half),
                             product.b.quadrant(inner, column, half),
                             product.c.quadrant(row, column, half), half, accumulate};
    };
    return run(quadrant(0, 0), quadrant(0, 1), quadrant(1, 0), quadrant(1, 1));
}

inline weft::coro<void> matmul(block_product product) {
    if (product.size <= matmul_block) {
        multiply_serially(product);
        co_return;
    }
    for (std::size_t inner = 0; inner < 2; ++inner) {
        co_await run_round(product, inner, [](const auto&... quadrants) {
            return weft::gather(matmul(quadrants)...);
        });
    }
}

inline void matmul_tbb(const block_product& product) {
    if (product.size <= matmul_block) {
        multiply_serially(product);
        return;
    }
    for (std::size_t inner = 0; inner < 2; ++inner) {
        run_round(product, inner, [](const auto&... quadrants) {
            tbb::task_group group;
            (group.run([quadrants] { matmul_tbb(quadrants); }), ...);
            group.wait();
        });
    }
}

// The workload's A and B: small integers, so that every sum of products is exact.
struct matmul_inputs {
    std::vector<double> a = std::vector<double>(matmul_n * matmul_n);
    std::vector<double> b = std::vector<double>(matmul_n * matmul_n);

    matmul_inputs() {
        for (std::size_t row = 0; row < matmul_n; ++row) {
            for (std::size_t column = 0; column < matmul_n; ++column) {
                a[row * matmul_n + column] = static_cast<double>((row * 3 + column * 5) % 7) - 3;
                b[row * matmul_n + column] = static_cast<double>((row * 5 + column * 2) % 9) - 4;
            }
        }
    }

    // The root product C = A * B writing into `c`, which holds matmul_n * matmul_n entries.
    block_product into(std::vector<double>& c) const {
        return {{a.data(), matmul_n}, {b.data(), matmul_n}, {c.data(), matmul_n}, matmul_n, false};
    }
};

} // namespace weft_bench
