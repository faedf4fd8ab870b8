// mini_redis: a Redis-protocol (RESP2) key-value server on weft, which redis-cli and
// redis-benchmark can talk to.
//
//     mini_redis [port [workers]]       (port 6379 by default; 0 picks a free one)
//
// Commands: PING, ECHO, GET, SET key value [EX seconds | PX milliseconds], DEL, INCR,
// EXISTS, MGET, QUIT, and CONFIG GET of save and appendonly (for redis-benchmark: none).
// Requests are RESP arrays of bulk strings, or inline commands (words on a line, as typed
// into telnet). Each connection reads through a weft::net::stream_reader and parses every
// complete command in its buffer, then sends their replies in one write: pipelining costs
// one read and one write per batch. A malformed request gets "-ERR Protocol error: ..." and
// the connection closes, as Redis does.
//
// The keys live in 64 shards, each a hash map under a std::mutex held only for one map
// operation, so tasks on every worker use the store at once; a command on several keys
// (DEL, EXISTS, MGET) takes their shards one after the other, so unlike Redis it is not
// atomic as a whole. Expiry is lazy against weft::clock (a key past its deadline is gone for
// every command that meets it) and a sweeper task wakes on weft's timers every 10 ms to
// drop the expired keys of one shard, so keys nobody reads again are freed too.
#include <weft/net.hpp>
#include <weft/weft.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The largest request (one command, or a bulk string in it) a connection buffers.
constexpr std::size_t request_limit = 8 << 20;
constexpr long long max_arguments = 1024 * 1024;

// ---- The store -------------------------------------------------------------------------

class store {
public:
    static constexpr weft::clock::time_point never = weft::clock::time_point::max();
    static constexpr std::size_t shard_count = 64;

    // Calls read(value) with the key's value, or with nullptr, under the key's shard lock.
    template <class Read>
    void read(std::string_view key, Read&& read) {
        shard& owner = shard_of(key);
        std::lock_guard held(owner.mutex);
        entry* found = live(owner, key);
        read(found == nullptr ? nullptr : &found->value);
    }

    void set(std::string_view key, std::string_view value, weft::clock::time_point expires_at) {
        shard& owner = shard_of(key);
        std::lock_guard held(owner.mutex);
        auto place = owner.entries.find(key); // a new key only: no key copy to replace one
        if (place == owner.entries.end()) {
            place = owner.entries.try_emplace(std::string(key)).first;
        }
        place->second.value.assign(value);
        place->second.expires_at = expires_at;
    }

    bool erase(std::string_view key) {
        shard& owner = shard_of(key);
        std::lock_guard held(owner.mutex);
        entry* found = live(owner, key);
        if (found == nullptr) {
            return false;
        }
        owner.entries.erase(owner.entries.find(key));
        return true;
    }

    bool contains(std::string_view key) {
        shard& owner = shard_of(key);
        std::lock_guard held(owner.mutex);
        return live(owner, key) != nullptr;
    }

    enum class increment_result { done, not_an_integer, overflow };
    // Adds one to the integer the key holds (0 if it has none), keeping its expiry.
    increment_result increment(std::string_view key, long long& result) {
        shard& owner = shard_of(key);
        std::lock_guard held(owner.mutex);
        entry* found = live(owner, key);
        long long value = 0;
        if (found != nullptr) {
            const std::string& text = found->value;
            const auto [end, error] =
                std::from_chars(text.data(), text.data() + text.size(), value);
            if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
                return increment_result::not_an_integer;
            }
        }
        if (value == std::numeric_limits<long long>::max()) {
            return increment_result::overflow;
        }
        result = value + 1;
        if (found == nullptr) {
            found = &owner.entries.try_emplace(std::string(key)).first->second;
        }
        found->value = std::to_string(result);
        return increment_result::done;
    }

    // Drops the expired keys of one shard.
    void sweep(std::size_t shard_index) {
        shard& owner = shards_[shard_index % shard_count];
        std::lock_guard held(owner.mutex);
        const weft::clock::time_point now = weft::clock::now();
        std::erase_if(owner.entries,
                      [now](const auto& each) { return each.second.expires_at <= now; });
    }

private:
    struct entry {
        std::string value;
        weft::clock::time_point expires_at = never;
    };
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept {
            return std::hash<std::string_view>{}(key);
        }
    };
    struct shard {
        std::mutex mutex;
        std::unordered_map<std::string, entry, key_hash, std::equal_to<>> entries;
    };

    shard& shard_of(std::string_view key) noexcept {
        // The map hashes again with the same function: the low bits pick its bucket, the
        // high ones the shard, so a shard's keys still spread over its buckets.
        return shards_[(key_hash{}(key) >> 32) % shard_count];
    }

    // The key's entry if it has one that has not expired; an expired one is dropped.
    static entry* live(shard& owner, std::string_view key) {
        const auto found = owner.entries.find(key);
        if (found == owner.entries.end()) {
            return nullptr;
        }
        if (found->second.expires_at != never && found->second.expires_at <= weft::clock::now()) {
            owner.entries.erase(found);
            return nullptr;
        }
        return &found->second;
    }

    std::array<shard, shard_count> shards_;
};

// Sweeps one shard every 10 ms, the whole store every 640 ms, until cancelled.
weft::coro<> sweep_expired(store& db) {
    for (std::size_t next = 0;; ++next) {
        co_await weft::sleep(10ms);
        db.sweep(next);
    }
}

// ---- The protocol ----------------------------------------------------------------------

enum class parse_status { complete, incomplete, malformed };

struct parse_outcome {
    parse_status status;
    std::size_t length = 0;      // bytes of the command, when complete
    const char* error = nullptr; // what was wrong, when malformed
};

// The whole of `text` as a decimal integer.
std::optional<long long> integer(std::string_view text) {
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// Parses the command at the front of `data` into `args` (views into `data`). A RESP
// array "*<n>\r\n" of bulk strings "$<length>\r\n<bytes>\r\n", or an inline command: words
// separated by spaces on a line. An array of n <= 0 is an empty command.
parse_outcome parse_command(std::string_view data, std::vector<std::string_view>& args) {
    args.clear();
    if (data.empty()) {
        return {parse_status::incomplete};
    }
    if (data.front() != '*') {
        const std::size_t end = data.find('\n');
        if (end == std::string_view::npos) {
            return {parse_status::incomplete};
        }
        std::string_view line = data.substr(0, end);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        for (std::size_t at = 0; at < line.size();) {
            const std::size_t word_start = line.find_first_not_of(" \t", at);
            if (word_start == std::string_view::npos) {
                break;
            }
            const std::size_t word_end =
                std::min(line.find_first_of(" \t", word_start), line.size());
            args.push_back(line.substr(word_start, word_end - word_start));
            at = word_end;
        }
        return {parse_status::complete, end + 1};
    }
    std::size_t at = 0;
    std::string_view line;
    const auto next_line = [&] {
        const std::size_t end = data.find("\r\n", at);
        if (end == std::string_view::npos) {
            return false;
        }
        line = data.substr(at, end - at);
        at = end + 2;
        return true;
    };
    if (!next_line()) {
        return {parse_status::incomplete};
    }
    const std::optional<long long> count = integer(line.substr(1));
    if (!count || *count > max_arguments) {
        return {parse_status::malformed, 0, "invalid multibulk length"};
    }
    for (long long i = 0; i < *count; ++i) {
        if (!next_line()) {
            return {parse_status::incomplete};
        }
        if (line.empty() || line.front() != '$') {
            return {parse_status::malformed, 0, "expected '$'"};
        }
        const std::optional<long long> length = integer(line.substr(1));
        if (!length || *length < 0 || static_cast<std::size_t>(*length) > request_limit - 64) {
            return {parse_status::malformed, 0, "invalid bulk length"};
        }
        const auto size = static_cast<std::size_t>(*length);
        if (data.size() - at < size + 2) {
            return {parse_status::incomplete};
        }
        if (data.substr(at + size, 2) != "\r\n") {
            return {parse_status::malformed, 0, "a bulk string does not end in CRLF"};
        }
        args.push_back(data.substr(at, size));
        at += size + 2;
    }
    return {parse_status::complete, at};
}

void reply_bulk(std::string& out, std::string_view value) {
    out += '$';
    out += std::to_string(value.size());
    out += "\r\n";
    out += value;
    out += "\r\n";
}

void reply_integer(std::string& out, long long value) {
    out += ':';
    out += std::to_string(value);
    out += "\r\n";
}

void reply_error(std::string& out, std::string_view message) {
    out += "-ERR ";
    out += message;
    out += "\r\n";
}

constexpr std::string_view nil = "$-1\r\n";

bool is(std::string_view name, std::string_view lower_case) {
    return name.size() == lower_case.size() &&
           std::equal(name.begin(), name.end(), lower_case.begin(),
                      [](char a, char b) { return (a | 0x20) == b; });
}

// ---- The commands ----------------------------------------------------------------------

// SET's options after the value: EX seconds or PX milliseconds.
std::optional<weft::clock::time_point> set_deadline(std::span<const std::string_view> options,
                                                    std::string& out) {
    if (options.empty()) {
        return store::never;
    }
    const bool seconds = is(options[0], "ex");
    if (options.size() != 2 || (!seconds && !is(options[0], "px"))) {
        reply_error(out, "syntax error");
        return std::nullopt;
    }
    const std::optional<long long> amount = integer(options[1]);
    constexpr long long longest_ms = 100LL * 365 * 24 * 3600 * 1000; // a century
    if (!amount || *amount <= 0 || *amount > (seconds ? longest_ms / 1000 : longest_ms)) {
        reply_error(out, "invalid expire time in 'set' command");
        return std::nullopt;
    }
    return weft::clock::now() + std::chrono::milliseconds(seconds ? *amount * 1000 : *amount);
}

enum class after_reply { keep_open, close };

// Runs one command (args not empty) and appends its reply to `out`.
after_reply execute(store& db, std::span<const std::string_view> args, std::string& out) {
    const std::string_view name = args[0];
    const std::size_t count = args.size();
    const auto arity_error = [&] {
        out += "-ERR wrong number of arguments for '";
        for (const char c : name) {
            out += static_cast<char>(c | 0x20);
        }
        out += "' command\r\n";
        return after_reply::keep_open;
    };
    if (is(name, "get")) {
        if (count != 2) {
            return arity_error();
        }
        db.read(args[1], [&out](const std::string* value) {
            if (value == nullptr) {
                out += nil;
            } else {
                reply_bulk(out, *value);
            }
        });
    } else if (is(name, "set")) {
        if (count < 3) {
            return arity_error();
        }
        if (const auto deadline = set_deadline(args.subspan(3), out)) {
            db.set(args[1], args[2], *deadline);
            out += "+OK\r\n";
        }
    } else if (is(name, "incr")) {
        if (count != 2) {
            return arity_error();
        }
        long long value = 0;
        switch (db.increment(args[1], value)) {
        case store::increment_result::done:
            reply_integer(out, value);
            break;
        case store::increment_result::not_an_integer:
            reply_error(out, "value is not an integer or out of range");
            break;
        case store::increment_result::overflow:
            reply_error(out, "increment or decrement would overflow");
            break;
        }
    } else if (is(name, "ping")) {
        if (count > 2) {
            return arity_error();
        }
        if (count == 2) {
            reply_bulk(out, args[1]);
        } else {
            out += "+PONG\r\n";
        }
    } else if (is(name, "echo")) {
        if (count != 2) {
            return arity_error();
        }
        reply_bulk(out, args[1]);
    } else if (is(name, "del") || is(name, "exists")) {
        if (count < 2) {
            return arity_error();
        }
        const bool erase = is(name, "del");
        long long found = 0;
        for (const std::string_view key : args.subspan(1)) {
            found += erase ? db.erase(key) : db.contains(key);
        }
        reply_integer(out, found);
    } else if (is(name, "mget")) {
        if (count < 2) {
            return arity_error();
        }
        out += '*';
        out += std::to_string(count - 1);
        out += "\r\n";
        for (const std::string_view key : args.subspan(1)) {
            db.read(key, [&out](const std::string* value) {
                if (value == nullptr) {
                    out += nil;
                } else {
                    reply_bulk(out, *value);
                }
            });
        }
    } else if (is(name, "quit")) {
        out += "+OK\r\n";
        return after_reply::close;
    } else if (is(name, "config") && count == 3 && is(args[1], "get")) {
        // What redis-benchmark asks for: no persistence, as mini_redis has none.
        if (is(args[2], "save") || is(args[2], "appendonly")) {
            out += "*2\r\n";
            reply_bulk(out, args[2]);
            reply_bulk(out, is(args[2], "save") ? "" : "no");
        } else {
            out += "*0\r\n";
        }
    } else {
        out += "-ERR unknown command '";
        out += name.substr(0, 128);
        out += "'\r\n";
    }
    return after_reply::keep_open;
}

// ---- The connections -------------------------------------------------------------------

// Answers one client until it quits, closes, or sends a malformed request. Parses every
// complete command buffered, then writes all their replies at once.
weft::coro<> serve_client(store& db, weft::net::tcp_stream conn) {
    conn.set_nodelay();
    weft::net::stream_reader reader(conn, request_limit);
    std::vector<std::string_view> args;
    std::string replies;
    try {
        for (;;) {
            const std::string_view pending = reader.buffered();
            std::size_t used = 0;
            after_reply next = after_reply::keep_open;
            while (next == after_reply::keep_open) {
                const parse_outcome command = parse_command(pending.substr(used), args);
                if (command.status == parse_status::incomplete) {
                    break;
                }
                if (command.status == parse_status::malformed) {
                    replies += "-ERR Protocol error: ";
                    replies += command.error;
                    replies += "\r\n";
                    next = after_reply::close;
                    break;
                }
                used += command.length;
                if (!args.empty()) {
                    next = execute(db, args, replies);
                }
            }
            reader.consume(used);
            if (!replies.empty()) {
                co_await conn.write_all(replies);
                replies.clear();
            }
            if (next == after_reply::close) {
                co_return;
            }
            bool too_large = false;
            try {
                if (co_await reader.fill() == 0) {
                    co_return; // the client closed
                }
            } catch (const weft::net::limit_overrun&) {
                too_large = true;
            }
            if (too_large) {
                co_await conn.write_all("-ERR Protocol error: a request larger than 8 MiB\r\n");
                co_return;
            }
        }
    } catch (const std::system_error&) {
        // The client reset the connection or went away mid-write: nothing to answer.
    }
}

weft::coro<> serve(store& db, std::uint16_t port) {
    auto listener = weft::net::tcp_listener::bind("0.0.0.0", port);
    std::printf("mini_redis listening on port %u\n", listener.local_port());
    std::fflush(stdout);
    weft::task<> sweeper = weft::create_task(sweep_expired(db));
    co_await weft::net::serve(std::move(listener), [&db](weft::net::tcp_stream conn) {
        return serve_client(db, std::move(conn));
    });
}

} // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 6379);
    const auto workers = static_cast<std::size_t>(argc > 2 ? std::atoi(argv[2]) : 0);
    store db; // outlives the runtime, so no task can outlive it
    weft::run(serve(db, port), weft::run_options{.workers = workers});
}
