// Builds against the installed weft and checks a gather of tasks end to end.
#include <weft/weft.hpp>

#include <cstdio>

namespace {
weft::coro<int> add(int a, int b) {
    co_return a + b;
}

weft::coro<int> amain() {
    weft::task<int> t = weft::create_task(add(1, 2));
    auto [x, y] = co_await weft::gather(t, add(3, 4));
    co_return x + y;
}
} // namespace

int main() {
    const int result = weft::run(amain(), weft::run_options{.workers = 2});
    std::printf("consumer: %d\n", result);
    return result == 10 ? 0 : 1;
}
