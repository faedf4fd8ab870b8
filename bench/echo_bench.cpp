// Echo ping-pong over one loopback TCP connection: the round-trip latency of an echo server,
// each server measured by the same client.
//   BM_echo_ping_pong_weft/workers:N   weft's echo server (as in examples/echo_server.cpp),
//                                      weft::run with N workers on a thread of its own
//   BM_echo_ping_pong_asio/threads:N   the same server written with Boost.Asio: an
//                                      io_context run by N threads, completion handlers
//   BM_echo_ping_pong_threads          the floor: a plain thread that blocks in recv and
//                                      send, woken by the kernel for every message
// The client is a plain thread with a blocking socket (TCP_NODELAY) in the benchmark's own
// thread: one iteration writes a 64-byte message and reads until the 64 bytes have come
// back, checking them. Counters: p50_us, p99_us and p999_us of the round trips of the
// whole run, besides Google Benchmark's mean time per iteration.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <weft/net/server.hpp>
#include <weft/weft.hpp>

namespace {

constexpr std::size_t message_size = 64;

// The client side: a connected blocking socket to 127.0.0.1:port.
class blocking_client {
public:
    explicit blocking_client(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(port);
        server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
            close(fd_);
            throw std::runtime_error("echo_bench: cannot connect to the server");
        }
    }
    blocking_client(const blocking_client&) = delete;
    blocking_client& operator=(const blocking_client&) = delete;
    ~blocking_client() { close(fd_); }

    // One round trip of `message`; false if the echo differs or the connection failed.
    bool round_trip(const std::array<char, message_size>& message) {
        if (send(fd_, message.data(), message.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(message.size())) {
            return false;
        }
        std::array<char, message_size> echoed;
        std::size_t got = 0;
        while (got < echoed.size()) {
            const ssize_t part = recv(fd_, echoed.data() + got, echoed.size() - got, 0);
            if (part <= 0) {
                return false;
            }
            got += static_cast<std::size_t>(part);
        }
        return echoed == message;
    }

private:
    int fd_;
};

// Runs the ping-pong against the server on `port` and reports its percentiles.
void measure_round_trips(benchmark::State& state, std::uint16_t port) {
    blocking_client client(port);
    std::array<char, message_size> message;
    std::vector<double> latencies_us;
    latencies_us.reserve(1 << 20);
    for (std::size_t i = 0; i < 1'000; ++i) { // warm: connection, caches, thread placement
        message.fill(static_cast<char>(i));
        client.round_trip(message);
    }
    char next = 0;
    for (auto _ : state) {
        message.fill(++next);
        const auto start = std::chrono::steady_clock::now();
        const bool echoed = client.round_trip(message);
        const auto end = std::chrono::steady_clock::now();
        if (!echoed) {
            state.SkipWithError("the echo differed from the message, or the connection failed");
            break;
        }
        latencies_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    if (latencies_us.empty()) {
        return;
    }
    std::sort(latencies_us.begin(), latencies_us.end());
    const auto percentile = [&latencies_us](double share) {
        return latencies_us[static_cast<std::size_t>(share *
                                                     static_cast<double>(latencies_us.size() - 1))];
    };
    state.counters["p50_us"] = percentile(0.50);
    state.counters["p99_us"] = percentile(0.99);
    state.counters["p999_us"] = percentile(0.999);
}

weft::coro<> weft_echo(weft::net::tcp_stream conn) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        const std::size_t got = co_await conn.read_some(buffer);
        if (got == 0) {
            co_return;
        }
        co_await conn.write_all(std::string_view(buffer.data(), got));
    }
}

void BM_echo_ping_pong_weft(benchmark::State& state) {
    std::promise<std::uint16_t> port;
    weft::future<> stop;
    std::thread server([&port, stop, workers = static_cast<std::size_t>(state.range(0))] {
        weft::run(
            [](std::promise<std::uint16_t>& port, weft::future<> stop) -> weft::coro<> {
                auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
                port.set_value(listener.local_port());
                weft::task<> serving =
                    weft::create_task(weft::net::serve(std::move(listener), weft_echo));
                co_await stop; // then run's shutdown cancels the server and its connection
            }(port, stop),
            weft::run_options{.workers = workers});
    });
    measure_round_trips(state, port.get_future().get());
    stop.set_result();
    server.join();
}
BENCHMARK(BM_echo_ping_pong_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

class asio_echo_session : public std::enable_shared_from_this<asio_echo_session> {
public:
    explicit asio_echo_session(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

    void read() {
        socket_.async_read_some(
            boost::asio::buffer(buffer_),
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t got) {
                if (!error) {
                    self->write(got);
                }
            });
    }

private:
    void write(std::size_t got) {
        boost::asio::async_write(
            socket_, boost::asio::buffer(buffer_.data(), got),
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                if (!error) {
                    self->read();
                }
            });
    }

    boost::asio::ip::tcp::socket socket_;
    std::array<char, 16 * 1024> buffer_;
};

void BM_echo_ping_pong_asio(benchmark::State& state) {
    using boost::asio::ip::tcp;
    const auto threads = static_cast<int>(state.range(0));
    boost::asio::io_context context(threads);
    tcp::acceptor acceptor(context, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    acceptor.async_accept([](const boost::system::error_code& error, tcp::socket socket) {
        if (!error) {
            socket.set_option(tcp::no_delay(true));
            std::make_shared<asio_echo_session>(std::move(socket))->read();
        }
    });
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&context] {
            const auto keep_running = boost::asio::make_work_guard(context);
            context.run();
        });
    }
    measure_round_trips(state, acceptor.local_endpoint().port());
    context.stop();
    for (std::thread& each : pool) {
        each.join();
    }
}
BENCHMARK(BM_echo_ping_pong_asio)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_echo_ping_pong_threads(benchmark::State& state) {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        close(listener);
        state.SkipWithError("cannot listen on 127.0.0.1");
        return;
    }
    std::thread server([listener] {
        const int conn = accept(listener, nullptr, nullptr);
        const int one = 1;
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::array<char, 16 * 1024> buffer;
        for (ssize_t got; (got = recv(conn, buffer.data(), buffer.size(), 0)) > 0;) {
            if (send(conn, buffer.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL) != got) {
                break;
            }
        }
        close(conn);
    });
    measure_round_trips(state, ntohs(address.sin_port));
    server.join(); // the client's close ends the server's recv loop
    close(listener);
}
BENCHMARK(BM_echo_ping_pong_threads)->UseRealTime();

} // namespace
