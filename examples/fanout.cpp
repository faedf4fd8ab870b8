// fanout: the core of weft in one program. It spawns tasks that run on every worker,
// awaits them, gathers a recursive fork-join tree, and completes a future from a thread
// outside the runtime.
//
//     fanout [workers]
#include <weft/weft.hpp>

#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <thread>
#include <vector>

namespace {

weft::coro<long> square(long x) {
    co_return x* x;
}

// Sums 1..leaves as a 10-ary tree of gathers: every inner node awaits its children.
weft::coro<long> tree_sum(long first, long leaves) {
    if (leaves == 1) {
        co_return first;
    }
    std::vector<weft::coro<long>> children;
    const long step = leaves / 10;
    for (long i = 0; i < 10; ++i) {
        children.push_back(tree_sum(first + i * step, step));
    }
    const std::vector<long> sums = co_await weft::gather(std::move(children));
    co_return std::accumulate(sums.begin(), sums.end(), 0L);
}

weft::coro<int> amain() {
    std::vector<weft::task<long>> tasks;
    for (long i = 1; i <= 1000; ++i) {
        tasks.push_back(weft::create_task(square(i)));
    }
    long squares = 0;
    for (weft::task<long>& t : tasks) {
        squares += co_await t;
    }
    std::printf("sum of squares 1..1000 = %ld\n", squares);

    const long total = co_await tree_sum(1, 1'000'000);
    std::printf("sum of 1..1000000 through a gather tree = %ld\n", total);

    weft::future<std::thread::id> reply;
    std::thread outside([reply]() mutable { reply.set_result(std::this_thread::get_id()); });
    co_await reply;
    outside.join();
    std::printf("a future completed from a thread outside the runtime woke its awaiter\n");

    const weft::runtime_stats stats = weft::current_runtime_stats();
    for (std::size_t id = 0; id < stats.workers.size(); ++id) {
        std::printf("worker %zu: %llu steps run, %llu stolen\n", id,
                    static_cast<unsigned long long>(stats.workers[id].tasks_run),
                    static_cast<unsigned long long>(stats.workers[id].tasks_stolen));
    }
    co_return squares == 333'833'500 && total == 500'000'500'000 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    const std::size_t workers = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 0;
    return weft::run(amain(), weft::run_options{.workers = workers});
}
