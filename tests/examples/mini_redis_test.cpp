// Tests examples/mini_redis.cpp as a client sees it: each test starts the program on a free
// port (2 workers) and talks to it. A raw RESP client over weft::net::tcp_stream checks every
// command's replies byte for byte, pipelined batches, requests that arrive a byte at a time,
// binary-safe values, expiry, and malformed requests (an error reply, then the connection
// closes, and the server goes on serving others). redis-cli, when installed (Debian
// redis-tools), checks that the real client understands the server; without it those tests
// are skipped.
#include <weft/net.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using weft::net::stream_reader;
using weft::net::tcp_stream;

// mini_redis running in a child process, stopped (SIGTERM) when this is destroyed.
class server_process {
public:
    server_process() {
        int out[2];
        if (pipe(out) != 0) {
            throw std::runtime_error("pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        std::array<char*, 4> argv{const_cast<char*>(WEFT_MINI_REDIS), const_cast<char*>("0"),
                                  const_cast<char*>("2"), nullptr};
        const int spawned =
            posix_spawn(&pid_, WEFT_MINI_REDIS, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(out[1]);
        if (spawned != 0) {
            close(out[0]);
            throw std::runtime_error("cannot start " + std::string(WEFT_MINI_REDIS));
        }
        port_ = read_port(out[0]);
        close(out[0]);
    }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }

    std::uint16_t port() const noexcept { return port_; }

private:
    // The port from "mini_redis listening on port N", waiting up to 30 s for it.
    static std::uint16_t read_port(int fd) {
        std::string printed;
        for (;;) {
            pollfd ready{fd, POLLIN, 0};
            std::array<char, 256> chunk;
            const ssize_t got =
                poll(&ready, 1, 30'000) == 1 ? read(fd, chunk.data(), chunk.size()) : 0;
            if (got <= 0) {
                throw std::runtime_error("mini_redis printed no port: " + printed);
            }
            printed.append(chunk.data(), static_cast<std::size_t>(got));
            const std::size_t at = printed.find("port ");
            if (at != std::string::npos && printed.find('\n', at) != std::string::npos) {
                return static_cast<std::uint16_t>(std::stoi(printed.substr(at + 5)));
            }
        }
    }

    pid_t pid_ = 0;
    std::uint16_t port_ = 0;
};

// One RESP reply, as the bytes that carry it (an array with its elements).
weft::coro<std::string> read_reply(stream_reader<tcp_stream>& in) {
    std::string reply = co_await in.read_until("\r\n");
    const bool sized = reply.front() == '$' || reply.front() == '*';
    const long long size = sized ? std::stoll(reply.substr(1)) : 0;
    if (reply.front() == '$' && size >= 0) {
        std::string bulk(static_cast<std::size_t>(size) + 2, '\0');
        co_await in.read_exact(bulk);
        reply += bulk;
    } else if (reply.front() == '*') {
        for (long long i = 0; i < size; ++i) {
            reply += co_await read_reply(in);
        }
    }
    co_return reply;
}

// A RESP array of bulk strings: the request a client sends. (Variadic rather than an
// initializer_list, whose array g++ 12 cannot keep in a coroutine frame.)
template <class... Words>
std::string command(const Words&... words) {
    std::string request = std::string("*") + std::to_string(sizeof...(words)) + "\r\n";
    for (const std::string_view word : {std::string_view(words)...}) {
        request.append("$").append(std::to_string(word.size())).append("\r\n");
        request.append(word).append("\r\n");
    }
    return request;
}

// What `command_line` prints, stdout and stderr, run by the shell.
std::string shell_output(const std::string& command_line) {
    const std::string line = command_line + " 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> out(popen(line.c_str(), "r"), pclose);
    std::string printed;
    std::array<char, 4096> chunk;
    while (std::size_t got = std::fread(chunk.data(), 1, chunk.size(), out.get())) {
        printed.append(chunk.data(), got);
    }
    return printed;
}

class MiniRedis : public testing::Test {
protected:
    // Runs `body(connection, reader)` on a fresh connection to the server, in a runtime.
    template <class Body>
    void with_connection(Body body) {
        weft::run(
            [](std::uint16_t port, Body talk) -> weft::coro<> {
                tcp_stream conn = co_await tcp_stream::connect("127.0.0.1", port);
                conn.set_nodelay();
                stream_reader reader(conn);
                co_await talk(conn, reader);
            }(server_.port(), std::move(body)),
            weft::run_options{.workers = 2});
    }

    // One request and its reply.
    static weft::coro<std::string> ask(tcp_stream& conn, stream_reader<tcp_stream>& in,
                                       std::string request) {
        co_await conn.write_all(request);
        co_return co_await read_reply(in);
    }

    // redis-cli's output for `arguments`.
    std::string cli(const std::string& arguments) {
        return shell_output(std::string("redis-cli -p ") + std::to_string(server_.port()) + " " +
                            arguments);
    }

    static bool have_redis_cli() {
        return std::system("command -v redis-cli >/dev/null 2>&1") == 0;
    }

    server_process server_;
};

TEST_F(MiniRedis, EachCommandAnswersAsRedisDoes) {
    with_connection([](tcp_stream& conn, stream_reader<tcp_stream>& in) -> weft::coro<> {
        EXPECT_EQ(co_await ask(conn, in, command("PING")), "+PONG\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("ping", "hi")), "$2\r\nhi\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("ECHO", "a b")), "$3\r\na b\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("GET", "k")), "$-1\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "k", "v")), "+OK\r\n");
        const std::string binary("a\r\n\0b", 5);
        EXPECT_EQ(co_await ask(conn, in, command("SET", "bin", binary)), "+OK\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("GET", "bin")), "$5\r\n" + binary + "\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("INCR", "n")), ":1\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "n", "41")), "+OK\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("incr", "n")), ":42\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("INCR", "k")),
                  "-ERR value is not an integer or out of range\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "big", "9223372036854775807")), "+OK\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("INCR", "big")),
                  "-ERR increment or decrement would overflow\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("EXISTS", "k", "none", "k")), ":2\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("MGET", "k", "none", "n")),
                  "*3\r\n$1\r\nv\r\n$-1\r\n$2\r\n42\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("DEL", "k", "none", "n")), ":2\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("GET", "k")), "$-1\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("GET")),
                  "-ERR wrong number of arguments for 'get' command\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "k", "v", "EX", "0")),
                  "-ERR invalid expire time in 'set' command\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "k", "v", "KEEP")),
                  "-ERR syntax error\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("NOPE", "x")), "-ERR unknown command 'NOPE'\r\n");
        EXPECT_EQ(co_await ask(conn, in, "PING\r\n"), "+PONG\r\n"); // inline, as from telnet
        EXPECT_EQ(co_await ask(conn, in, "echo  two\n"), "$3\r\ntwo\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("QUIT")), "+OK\r\n");
        std::array<char, 1> after{};
        EXPECT_EQ(co_await in.read_some(after), 0u); // QUIT closed the connection
    });
}

TEST_F(MiniRedis, APipelineGetsEveryReplyInOrderAndSplitRequestsWait) {
    with_connection([](tcp_stream& conn, stream_reader<tcp_stream>& in) -> weft::coro<> {
        std::string batch;
        for (int i = 0; i < 1000; ++i) {
            batch += command("INCR", "counter");
        }
        co_await conn.write_all(batch);
        for (int i = 1; i <= 1000; ++i) {
            EXPECT_EQ(co_await read_reply(in), std::string(":") + std::to_string(i) + "\r\n");
        }
        const std::string request = command("SET", "split", "hello") + command("GET", "split");
        for (const char byte : request) { // the server sees the request a byte at a time
            co_await conn.write_all(std::string_view(&byte, 1));
            co_await weft::sleep(1ms);
        }
        EXPECT_EQ(co_await read_reply(in), "+OK\r\n");
        EXPECT_EQ(co_await read_reply(in), "$5\r\nhello\r\n");
    });
}

TEST_F(MiniRedis, KeysExpireOnTheServersClock) {
    with_connection([](tcp_stream& conn, stream_reader<tcp_stream>& in) -> weft::coro<> {
        EXPECT_EQ(co_await ask(conn, in, command("SET", "long", "v", "EX", "100")), "+OK\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("SET", "short", "v", "PX", "50")), "+OK\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("INCR", "long")),
                  "-ERR value is not an integer or out of range\r\n");
        co_await weft::sleep(300ms);
        EXPECT_EQ(co_await ask(conn, in, command("GET", "short")), "$-1\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("EXISTS", "short", "long")), ":1\r\n");
        EXPECT_EQ(co_await ask(conn, in, command("GET", "long")), "$1\r\nv\r\n");
    });
}

TEST_F(MiniRedis, AMalformedRequestGetsAnErrorAndClosesOnlyItsConnection) {
    for (const std::string_view bad :
         {"*x\r\n", "*1\r\n:5\r\n", "*1\r\n$3\r\nabcde\r\n", "*1\r\n$-5\r\n",
          "*1\r\n$99999999999\r\n", "*99999999\r\n"}) {
        with_connection([bad](tcp_stream& conn, stream_reader<tcp_stream>& in) -> weft::coro<> {
            co_await conn.write_all(bad);
            const std::string reply = co_await in.read_line();
            EXPECT_EQ(reply.rfind("-ERR Protocol error: ", 0), 0u) << bad << " got " << reply;
            EXPECT_EQ(co_await in.read_line(), "") << bad; // then the connection closed
        });
    }
    with_connection([](tcp_stream& conn, stream_reader<tcp_stream>& in) -> weft::coro<> {
        EXPECT_EQ(co_await ask(conn, in, command("PING")), "+PONG\r\n");
    });
}

TEST_F(MiniRedis, RedisCliUnderstandsTheServer) {
    if (!have_redis_cli()) {
        GTEST_SKIP() << "redis-cli is not installed (Debian package redis-tools)";
    }
    EXPECT_EQ(cli("PING"), "PONG\n");
    EXPECT_EQ(cli("SET greeting 'hello world'"), "OK\n");
    EXPECT_EQ(cli("GET greeting"), "hello world\n");
    EXPECT_EQ(cli("INCR visits"), "1\n");
    EXPECT_EQ(cli("INCR visits"), "2\n");
    EXPECT_EQ(cli("MGET greeting missing visits"), "hello world\n\n2\n");
    EXPECT_EQ(cli("EXISTS greeting visits missing"), "2\n");
    EXPECT_EQ(cli("DEL greeting"), "1\n");
    EXPECT_EQ(cli("GET greeting"), "\n");
    EXPECT_EQ(cli("SET t v PX 600000"), "OK\n"); // lives through any pause between the calls
    EXPECT_EQ(cli("INCR t"), "ERR value is not an integer or out of range\n\n");
    EXPECT_EQ(cli("ECHO 'a b'"), "a b\n");
    EXPECT_EQ(cli("QUIT"), "OK\n");
}

TEST_F(MiniRedis, RedisCliPipesManyCommandsThroughOneConnection) {
    if (!have_redis_cli()) {
        GTEST_SKIP() << "redis-cli is not installed (Debian package redis-tools)";
    }
    // redis-cli --pipe sends everything at once and counts the replies.
    std::string script = "printf '";
    for (int i = 0; i < 500; ++i) {
        script += "INCR piped\\r\\n";
    }
    script += std::string("' | redis-cli -p ") + std::to_string(server_.port()) + " --pipe";
    const std::string printed = shell_output(script);
    EXPECT_NE(printed.find("errors: 0, replies: 500"), std::string::npos) << printed;
    EXPECT_EQ(cli("GET piped"), "500\n");
}

} // namespace
