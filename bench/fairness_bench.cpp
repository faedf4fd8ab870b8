// The socket operation budget at work (runtime/io/io_budget.hpp): round-trip latency of a
// one-byte ping-pong with a weft server on one worker, alone, and beside a connection whose
// peer keeps the server's receive buffer full while the server reads it 16 bytes at a time
// (every read finds data, so without the budget that reader would never let go of the
// worker). The client is a blocking thread; it reports p50 and p99 in microseconds over all
// round trips of all iterations. Target: the flooded p99 within 2x of the unloaded one.
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

namespace {

constexpr int round_trips = 2000;

int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(port);
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where);
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
}

weft::coro<> serve(weft::net::tcp_stream conn) {
    conn.set_nodelay();
    std::array<char, 16> small;
    co_await conn.read_exact(std::span(small).first(1));
    if (small[0] == 'F') {
        while (co_await conn.read_some(small) != 0) {
        }
        co_return;
    }
    std::array<char, 1> byte;
    while (co_await conn.read_some(byte) == 1) {
        co_await conn.write_all(std::string_view(byte.data(), 1));
    }
}

// One scenario: a server on one worker, the pinger's round trips appended to `samples`.
void run_scenario(bool flooded, std::vector<double>& samples) {
    std::atomic<bool> stop{false};
    std::thread flooder;
    std::thread pinger;
    weft::run(
        [&]() -> weft::coro<> {
            auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            weft::task<> flood_served;
            if (flooded) {
                flooder = std::thread([port, &stop] {
                    const int fd = connect_to(port);
                    std::vector<char> chunk(64 * 1024, 'F');
                    while (!stop.load() && ::send(fd, chunk.data(), chunk.size(), 0) > 0) {
                    }
                    ::close(fd);
                });
                flood_served = weft::create_task(serve(co_await listener.accept()));
            }
            pinger = std::thread([port, &stop, &samples] {
                const int fd = connect_to(port);
                char byte = 'P';
                ::send(fd, &byte, 1, 0);
                for (int i = 0; i < round_trips; ++i) {
                    const auto start = std::chrono::steady_clock::now();
                    if (::send(fd, &byte, 1, 0) != 1 || ::recv(fd, &byte, 1, 0) != 1) {
                        break;
                    }
                    samples.push_back(std::chrono::duration<double, std::micro>(
                                          std::chrono::steady_clock::now() - start)
                                          .count());
                }
                ::close(fd);
                stop = true;
            });
            co_await serve(co_await listener.accept());
            if (flood_served) {
                co_await flood_served;
            }
        }(),
        weft::run_options{.workers = 1});
    if (flooder.joinable()) {
        flooder.join();
    }
    pinger.join();
}

void report(benchmark::State& state, std::vector<double>& samples) {
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double fraction) {
        return samples[static_cast<std::size_t>(fraction *
                                                static_cast<double>(samples.size() - 1))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["round_trips"] = static_cast<double>(samples.size());
}

void BM_ping_pong_alone(benchmark::State& state) {
    std::vector<double> samples;
    for (auto _ : state) {
        run_scenario(false, samples);
    }
    report(state, samples);
}

void BM_ping_pong_beside_a_flood(benchmark::State& state) {
    std::vector<double> samples;
    for (auto _ : state) {
        run_scenario(true, samples);
    }
    report(state, samples);
}

BENCHMARK(BM_ping_pong_alone)->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ping_pong_beside_a_flood)->Iterations(5)->Unit(benchmark::kMillisecond);

} // namespace
