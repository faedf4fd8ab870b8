// Tests the socket operation budget (runtime/io/io_budget.hpp): on one worker, a connection
// whose reads always find data (a peer thread keeps its receive buffer full while the server
// reads 16 bytes at a time) must not keep another connection from being served. Without the
// budget the flooded reader never suspends and the ping-pong below never gets an answer. The
// bound is generous (the latency itself is measured by bench/fairness_bench.cpp).
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

namespace {

constexpr int round_trips = 200;

// A blocking client socket connected to 127.0.0.1:port that gives up reading after 20 s.
int connect_blocking(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(port);
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
        ::close(fd);
        return -1;
    }
    const timeval limit{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    return fd;
}

// Keeps writing until told to stop, then closes: the server's reads always find data.
void flood(std::uint16_t port, const std::atomic<bool>& stop) {
    const int fd = connect_blocking(port);
    ASSERT_GE(fd, 0);
    std::vector<char> chunk(64 * 1024, 'x');
    chunk[0] = 'F';
    while (!stop.load()) {
        if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) {
            break;
        }
        chunk[0] = 'x';
    }
    ::close(fd);
}

// Sends one byte and waits for its echo, round_trips times; how many came back.
int ping_pong(std::uint16_t port) {
    const int fd = connect_blocking(port);
    if (fd < 0) {
        return 0;
    }
    char tag = 'P';
    ::send(fd, &tag, 1, MSG_NOSIGNAL);
    int answered = 0;
    for (int i = 0; i < round_trips; ++i) {
        char byte = static_cast<char>('a' + i % 26);
        char echoed = 0;
        if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1 || ::recv(fd, &echoed, 1, 0) != 1 ||
            echoed != byte) {
            break;
        }
        ++answered;
    }
    ::close(fd);
    return answered;
}

weft::coro<> serve_connection(weft::net::tcp_stream conn) {
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

TEST(Fairness, AFloodedConnectionDoesNotStarveAnotherOnOneWorker) {
    std::atomic<bool> stop{false};
    std::thread flooder;
    std::thread pinger;
    std::atomic<int> answered{0};
    weft::run(
        [&]() -> weft::coro<> {
            auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
            const std::uint16_t port = listener.local_port();
            flooder = std::thread(flood, port, std::cref(stop));
            weft::net::tcp_stream first = co_await listener.accept();
            weft::task<> first_served = weft::create_task(serve_connection(std::move(first)));
            pinger = std::thread([&answered, &stop, port] {
                answered = ping_pong(port);
                stop = true;
            });
            weft::net::tcp_stream second = co_await listener.accept();
            co_await serve_connection(std::move(second));
            co_await first_served;
        }(),
        weft::run_options{.workers = 1});
    flooder.join();
    pinger.join();
    EXPECT_EQ(answered.load(), round_trips);
}

} // namespace
