// A cancellation stress test over everything that takes part in cancellation: 200,000 nodes
// in random trees of gather (of coroutines, with and without return_exceptions, and of a
// task beside a coroutine), task_group, wait_for, sleep and create_task (awaited, or
// cancelled by a sibling after a random sleep), with cancellations fired at random virtual
// times by a task on the runtime and, in one variant, at random real-time intervals by a
// foreign thread; on 1, 2 and 4 workers, all in virtual time. No timing is asserted.
//
// Each node has a state byte: its start, its end (an RAII guard in its frame) and the
// freeing of its frame set one bit each, so a node that ends twice, never ends or leaks its
// frame is named. A node cancelled before its first step never runs its body (asyncio's
// rule): its frame is freed unstarted, it counts as skipped and its subtree is never made. A tree's
// shape follows from its seed and node budget alone, so every run of a variant has the same nodes;
// which of them a cancellation reaches depends on the interleaving (with one worker, on nothing:
// that run is the same every time). The test also requires that run() returns, that nothing is
// reported on stderr (no task still pending at shutdown, no sanitizer report) and that no awaited
// task's failure is reported as never retrieved. It runs the full 200,000 nodes in every build:
// about 1.5 s a test in release, 6 to 8 s under ThreadSanitizer or AddressSanitizer on two cores.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t total_nodes = 200'000;
constexpr std::uint32_t smallest_tree = 500;
constexpr std::uint32_t largest_tree = 3'500;
constexpr std::size_t trees_per_wave = 8;
// A run that has not returned by then is reported with its counts, and the test aborts.
constexpr std::chrono::seconds hang_limit = 300s;

const char* const leaf_failure = "a stress leaf failed";

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A small generator over splitmix64; each node draws its choices from its own seed.
class random_source {
public:
    explicit random_source(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() { return splitmix64(state_++); }
    std::uint64_t between(std::uint64_t low, std::uint64_t high) {
        return low + next() % (high - low + 1);
    }
    bool chance(std::uint64_t percent) { return next() % 100 < percent; }
    // Whole milliseconds, so that virtual time moves in steps many timers share: it moves
    // only when every worker is idle, and each move costs the workers a search and a park.
    std::chrono::milliseconds up_to(std::chrono::milliseconds limit) {
        return std::chrono::milliseconds(between(0, static_cast<std::uint64_t>(limit.count())));
    }

private:
    std::uint64_t state_;
};

// One node: its id, the size of its subtree, which holds the ids [id, id + budget) in
// preorder, and its seed.
struct spec {
    std::uint32_t id;
    std::uint32_t budget;
    std::uint64_t seed;
};

enum class ending : std::uint8_t { value, cancelled, timeout, group, failure, other, torn_down };
constexpr std::size_t ending_kinds = 7;
const char* const ending_names[ending_kinds] = {
    "value",         "cancelled_error", "timeout_error",    "exception_group",
    "runtime_error", "other exception", "torn down unended"};

// What happened to every node, and how each ended.
class census {
public:
    static constexpr std::uint8_t started = 1;
    static constexpr std::uint8_t ended = 2;
    static constexpr std::uint8_t freed = 4;
    // Never run: its group refused an ancestor, or wait_for dropped it unstarted.
    static constexpr std::uint8_t refused = 8;
    static constexpr std::uint8_t twice = 16; // one of the above happened twice
    // Cancelled before its first step: its body never ran (asyncio's rule), so the nodes of
    // its subtree below it were never created (they are marked refused).
    static constexpr std::uint8_t skipped = 32;

    explicit census(std::uint32_t nodes) : states_(nodes) {}

    void start(std::uint32_t id) {
        mark(id, started);
        started_count.fetch_add(1);
    }
    void end(std::uint32_t id, ending how) {
        mark(id, ended);
        endings[static_cast<std::size_t>(how)].fetch_add(1);
        ended_count.fetch_add(1);
    }
    void free(std::uint32_t id) { mark(id, freed); }
    // A task_group refused `subtree`'s root, or wait_for will drop the root unstarted: none
    // of its nodes is ever run. A root whose frame, made for the refused create_task, was
    // freed unstarted first was counted as skipped (with the rest of its subtree refused):
    // it is counted refused instead.
    void refuse(const spec& subtree) {
        if ((states_[subtree.id].fetch_and(static_cast<std::uint8_t>(~skipped)) & skipped) != 0) {
            skipped_count.fetch_sub(1);
            mark(subtree.id, refused);
            refused_count.fetch_add(1);
            return;
        }
        for (std::uint32_t id = subtree.id; id < subtree.id + subtree.budget; ++id) {
            mark(id, refused);
        }
        refused_count.fetch_add(subtree.budget);
    }
    // `subtree`'s root was freed without having started.
    void skip(const spec& subtree) {
        mark(subtree.id, skipped);
        skipped_count.fetch_add(1);
        for (std::uint32_t id = subtree.id + 1; id < subtree.id + subtree.budget; ++id) {
            mark(id, refused);
        }
        refused_count.fetch_add(subtree.budget - 1);
    }

    std::uint8_t state(std::uint32_t id) const { return states_[id].load(); }
    std::uint32_t size() const { return static_cast<std::uint32_t>(states_.size()); }

    std::atomic<std::uint64_t> started_count{0};
    std::atomic<std::uint64_t> ended_count{0};
    std::atomic<std::uint64_t> refused_count{0};
    std::atomic<std::uint64_t> skipped_count{0};
    std::atomic<std::uint64_t> repeats{0};
    std::atomic<std::uint64_t> endings[ending_kinds] = {};

private:
    void mark(std::uint32_t id, std::uint8_t bit) {
        if ((states_[id].fetch_or(bit) & bit) != 0) {
            states_[id].fetch_or(twice);
            repeats.fetch_add(1);
        }
    }

    std::vector<std::atomic<std::uint8_t>> states_;
};

// The tasks a canceller may pick: the trees of the current wave and the tasks created inside
// them. Guarded by a mutex, so a foreign thread may copy a handle out and cancel it.
class cancel_board {
public:
    void add_tree(const weft::task<int>& tree) {
        const std::lock_guard hold(lock_);
        trees_.push_back(tree);
    }
    void add_inner(const weft::task<int>& inner) {
        const std::lock_guard hold(lock_);
        inner_.push_back(inner);
    }
    weft::task<int> pick(std::uint64_t random, bool tree) {
        const std::lock_guard hold(lock_);
        const std::vector<weft::task<int>>& from = tree || inner_.empty() ? trees_ : inner_;
        return from.empty() ? weft::task<int>() : from[random % from.size()];
    }
    // The handles are dropped outside the lock.
    void clear() {
        std::vector<weft::task<int>> trees;
        std::vector<weft::task<int>> inner;
        const std::lock_guard hold(lock_);
        trees.swap(trees_);
        inner.swap(inner_);
    }

private:
    std::mutex lock_;
    std::vector<weft::task<int>> trees_;
    std::vector<weft::task<int>> inner_;
};

ending classify(const std::exception_ptr& failure);

struct stress {
    explicit stress(std::uint32_t nodes) : nodes(nodes) {}

    census nodes;
    cancel_board board;
    std::atomic<std::uint64_t> worker_cancels{0};  // cancel() calls from workers that landed
    std::atomic<std::uint64_t> foreign_cancels{0}; // the same from the foreign thread
    std::atomic<std::int64_t> virtual_end_ns{0};

    // run_options::exception_handler: every task's failure is awaited, so none may come here.
    void note_unretrieved(const std::exception_ptr& error) {
        const std::lock_guard hold(unretrieved_lock);
        if (unretrieved++ == 0) {
            first_unretrieved = ending_names[static_cast<std::size_t>(classify(error))];
        }
    }
    std::mutex unretrieved_lock;
    std::uint64_t unretrieved = 0;
    std::string first_unretrieved;
};

// Destroyed with the frame that holds it as a parameter: marks the node's frame freed, and
// the node skipped if its body never started.
class frame_token {
public:
    frame_token(census& nodes, const spec& node) : nodes_(&nodes), node_(node) {}
    frame_token(frame_token&& other) noexcept
        : nodes_(std::exchange(other.nodes_, nullptr)), node_(other.node_) {}
    frame_token(const frame_token&) = delete;
    frame_token& operator=(const frame_token&) = delete;
    ~frame_token() {
        if (nodes_ == nullptr) {
            return;
        }
        if ((nodes_->state(node_.id) & (census::started | census::refused)) == 0) {
            nodes_->skip(node_);
        }
        nodes_->free(node_.id);
    }

private:
    census* nodes_;
    spec node_;
};

// A local of the node's body: marks the node ended when the body ends, or when its frame is
// destroyed at a suspension point (how stays torn_down).
class end_guard {
public:
    end_guard(census& nodes, std::uint32_t id) : nodes_(nodes), id_(id) {}
    end_guard(const end_guard&) = delete;
    end_guard& operator=(const end_guard&) = delete;
    ~end_guard() { nodes_.end(id_, how); }

    ending how = ending::torn_down;

private:
    census& nodes_;
    std::uint32_t id_;
};

ending classify(const std::exception_ptr& failure) {
    if (!failure) {
        return ending::value;
    }
    try {
        std::rethrow_exception(failure);
    } catch (const weft::cancelled_error&) {
        return ending::cancelled;
    } catch (const weft::timeout_error&) {
        return ending::timeout;
    } catch (const weft::exception_group&) {
        return ending::group;
    } catch (const weft::runtime_error&) {
        return ending::other;
    } catch (const std::runtime_error& error) {
        return std::string(error.what()) == leaf_failure ? ending::failure : ending::other;
    } catch (...) {
        return ending::other;
    }
}

// Splits the descendants of `parent` (budget - 1 nodes) among `count` children of at least
// one node each, in preorder.
std::vector<spec> split(const spec& parent, std::uint32_t count, random_source& random) {
    const std::uint64_t spare = parent.budget - 1 - count;
    std::vector<std::uint64_t> weights(count);
    std::uint64_t total_weight = 0;
    for (std::uint64_t& weight : weights) {
        weight = random.between(1, 100);
        total_weight += weight;
    }
    std::vector<spec> children;
    std::uint32_t next_id = parent.id + 1;
    std::uint64_t given = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t extra =
            i + 1 == count ? spare - given : spare * weights[i] / total_weight;
        given += extra;
        const auto budget = static_cast<std::uint32_t>(1 + extra);
        children.push_back({next_id, budget, splitmix64(parent.seed ^ (0x9e37ULL * (i + 1)))});
        next_id += budget;
    }
    return children;
}

std::uint32_t fan_out(const spec& self, random_source& random) {
    return std::min<std::uint32_t>(static_cast<std::uint32_t>(random.between(2, 6)),
                                   self.budget - 1);
}

weft::coro<int> node(stress& s, spec self, frame_token);

weft::coro<int> child(stress& s, const spec& of) {
    return node(s, of, frame_token(s.nodes, of));
}

// Sleeps up to 50 ms (a fifth of the leaves only yield), then sometimes fails. A cancelled
// leaf usually rethrows; some clean up with an await first, a few swallow it.
weft::coro<int> leaf(random_source random) {
    const std::chrono::nanoseconds delay = random.chance(20) ? 0ms : random.up_to(50ms);
    const bool fails = random.chance(2);
    const std::uint64_t reaction = random.between(0, 99);
    bool cancelled = false;
    try {
        co_await weft::sleep(delay);
    } catch (const weft::cancelled_error&) {
        cancelled = true;
    }
    if (cancelled) {
        if (reaction < 10) {
            co_await weft::sleep(random.up_to(5ms));
            throw weft::cancelled_error();
        }
        if (reaction < 13) {
            co_return 0;
        }
        throw weft::cancelled_error();
    }
    if (fails) {
        throw std::runtime_error(leaf_failure);
    }
    co_return 1;
}

weft::coro<int> gather_node(stress& s, spec self, random_source random, bool outcomes) {
    const std::vector<spec> specs = split(self, fan_out(self, random), random);
    std::vector<weft::coro<int>> children;
    for (const spec& each : specs) {
        children.push_back(child(s, each));
    }
    int sum = 0;
    if (outcomes) {
        std::vector<weft::outcome<int>> results =
            co_await weft::gather(weft::return_exceptions, std::move(children));
        for (const weft::outcome<int>& each : results) {
            sum += each.has_value() ? each.value() : 0;
        }
    } else {
        const std::vector<int> results = co_await weft::gather(std::move(children));
        for (const int each : results) {
            sum += each;
        }
    }
    co_return sum;
}

// A gather of a task (which a canceller may pick) and a coroutine.
weft::coro<int> gather_task_node(stress& s, spec self, random_source random) {
    const std::vector<spec> specs = split(self, 2, random);
    weft::task<int> first = weft::create_task(child(s, specs[0]));
    s.board.add_inner(first);
    const auto [a, b] = co_await weft::gather(first, child(s, specs[1]));
    co_return a + b;
}

struct group_plan {
    std::size_t early = 0; // members created before the body's pause, the rest after it
    std::chrono::nanoseconds pause{0};
    bool await_first = false;
    bool on_board = false;
};

// The body of a group: creates some members, pauses, creates the rest (which start
// cancelled if the group was, and are refused if it failed), then may await the first.
weft::coro<int> group_body(stress& s, weft::task_group& group, const std::vector<spec>& members,
                           const group_plan& plan) {
    std::vector<weft::task<int>> launched;
    std::size_t next = 0;
    auto launch = [&](std::size_t until) {
        for (; next < until; ++next) {
            try {
                launched.push_back(group.create_task(child(s, members[next])));
            } catch (const weft::runtime_error&) {
                for (; next < members.size(); ++next) {
                    s.nodes.refuse(members[next]);
                }
                return;
            }
            if (plan.on_board) {
                s.board.add_inner(launched.back());
            }
        }
    };
    launch(plan.early);
    bool cancelled = false;
    try {
        co_await weft::sleep(plan.pause);
    } catch (const weft::cancelled_error&) {
        cancelled = true;
    }
    launch(members.size());
    if (cancelled) {
        throw weft::cancelled_error();
    }
    if (plan.await_first && !launched.empty()) {
        co_return co_await launched.front();
    }
    co_return 0;
}

weft::coro<int> group_node(stress& s, spec self, random_source random) {
    const std::vector<spec> members = split(self, fan_out(self, random), random);
    group_plan plan;
    plan.early = random.between(1, members.size());
    plan.pause = random.up_to(20ms);
    plan.await_first = random.chance(50);
    plan.on_board = random.chance(50);
    co_return co_await weft::with_task_group(
        [&](weft::task_group& group) { return group_body(s, group, members, plan); });
}

weft::coro<int> wait_for_node(stress& s, spec self, random_source random) {
    const spec only = split(self, 1, random).front();
    const std::chrono::nanoseconds limit = random.chance(5) ? 0ms : random.up_to(300ms);
    if (limit <= 0ms) {
        s.nodes.refuse(only); // as in asyncio, a deadline already passed never starts it
    }
    co_return co_await weft::wait_for(child(s, only), limit);
}

weft::coro<int> awaited_task_node(stress& s, spec self, random_source random) {
    weft::task<int> only = weft::create_task(child(s, split(self, 1, random).front()));
    s.board.add_inner(only);
    co_return co_await only;
}

weft::coro<> cancel_after(stress& s, weft::task<int> target, std::chrono::nanoseconds delay) {
    co_await weft::sleep(delay);
    if (target.cancel()) {
        s.worker_cancels.fetch_add(1);
    }
}

// A task and a sibling that cancels it after a random sleep. Once the task ended, the
// sibling is cancelled. Half of these nodes survive their task's cancellation.
weft::coro<int> cancelled_task_node(stress& s, spec self, random_source random) {
    const spec only = split(self, 1, random).front();
    const std::chrono::nanoseconds delay = random.up_to(60ms);
    const bool survives = random.chance(50);
    weft::task<int> target = weft::create_task(child(s, only));
    s.board.add_inner(target);
    weft::task<> killer = weft::create_task(cancel_after(s, target, delay));
    int value = 0;
    std::exception_ptr failure;
    try {
        value = co_await target;
    } catch (...) {
        failure = std::current_exception();
    }
    killer.cancel();
    try {
        co_await killer;
    } catch (const weft::cancelled_error&) {
    }
    if (failure && !(survives && classify(failure) == ending::cancelled)) {
        std::rethrow_exception(failure);
    }
    co_return value;
}

weft::coro<int> shaped(stress& s, const spec& self, random_source& random) {
    if (self.budget == 1) {
        return leaf(random);
    }
    const std::uint64_t roll = random.between(0, 99);
    if (roll < 22) {
        return gather_node(s, self, random, false);
    }
    if (roll < 32) {
        return gather_node(s, self, random, true);
    }
    if (roll < 40) {
        return self.budget >= 3 ? gather_task_node(s, self, random)
                                : gather_node(s, self, random, false);
    }
    if (roll < 65) {
        return group_node(s, self, random);
    }
    if (roll < 80) {
        return wait_for_node(s, self, random);
    }
    if (roll < 88) {
        return awaited_task_node(s, self, random);
    }
    return cancelled_task_node(s, self, random);
}

// Every node: records its start, how it ended and its end, and passes its result on.
weft::coro<int> node(stress& s, spec self, frame_token) {
    end_guard guard(s.nodes, self.id);
    s.nodes.start(self.id);
    random_source random(self.seed);
    std::exception_ptr failure;
    int value = 0;
    try {
        value = co_await shaped(s, self, random);
    } catch (...) {
        failure = std::current_exception();
    }
    guard.how = classify(failure);
    if (failure) {
        std::rethrow_exception(failure);
    }
    co_return value;
}

// Runs on the runtime until cancelled: at random virtual times, cancels a random tree of
// the wave or a random task inside one.
weft::coro<> cancel_at_random(stress& s, std::uint64_t seed) {
    random_source random(seed);
    for (;;) {
        co_await weft::sleep(random.up_to(30ms));
        const bool tree = random.chance(20);
        const weft::task<int> victim = s.board.pick(random.next(), tree);
        if (victim.cancel()) {
            s.worker_cancels.fetch_add(1);
        }
    }
}

// The foreign thread: sleeps a random real-time interval, then cancels a random task of the
// board, about once per 100 nodes ended, so that the mix is alike in fast and slow builds.
void cancel_from_outside(stress& s, std::uint64_t seed, const std::stop_token& stop) {
    random_source random(splitmix64(seed));
    std::uint64_t next_at = 0;
    while (!stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::microseconds(random.between(0, 400)));
        const std::uint64_t ended = s.nodes.ended_count.load();
        if (ended < next_at) {
            continue;
        }
        next_at = ended + random.between(0, 200);
        const bool tree = random.chance(1);
        const weft::task<int> victim = s.board.pick(random.next(), tree);
        if (victim.cancel()) {
            s.foreign_cancels.fetch_add(1);
        }
    }
}

// The trees, a wave of them at a time, each wave beside its canceller.
weft::coro<> drive(stress& s, std::vector<spec> trees, std::uint64_t seed) {
    random_source random(seed);
    for (std::size_t first = 0; first < trees.size(); first += trees_per_wave) {
        const std::size_t last = std::min(trees.size(), first + trees_per_wave);
        std::vector<weft::task<int>> wave;
        for (std::size_t i = first; i < last; ++i) {
            wave.push_back(weft::create_task(child(s, trees[i])));
            s.board.add_tree(wave.back());
        }
        weft::task<> canceller = weft::create_task(cancel_at_random(s, random.next()));
        for (const weft::task<int>& tree : wave) {
            try {
                co_await tree;
            } catch (...) {
            }
            EXPECT_TRUE(tree.done());
        }
        canceller.cancel();
        try {
            co_await canceller;
        } catch (const weft::cancelled_error&) {
        }
        s.board.clear();
    }
    s.virtual_end_ns.store(weft::clock::now().time_since_epoch().count());
}

std::vector<spec> plan_trees(std::uint64_t seed) {
    random_source random(seed);
    std::vector<spec> trees;
    std::uint32_t next = 0;
    while (next < total_nodes) {
        const auto budget = std::min<std::uint32_t>(
            total_nodes - next,
            static_cast<std::uint32_t>(random.between(smallest_tree, largest_tree)));
        trees.push_back({next, budget, random.next()});
        next += budget;
    }
    return trees;
}

// Aborts the process with the census if the run has not returned within hang_limit.
class hang_alarm {
public:
    explicit hang_alarm(const stress& s)
        : watcher_([this, &s] {
              std::unique_lock hold(lock_);
              if (!changed_.wait_for(hold, hang_limit, [this] { return disarmed_; })) {
                  std::fprintf(stderr,
                               "cancellation_stress_test: run has not returned after %lld s: "
                               "%llu nodes started, %llu ended, %llu refused\n",
                               static_cast<long long>(hang_limit.count()),
                               static_cast<unsigned long long>(s.nodes.started_count.load()),
                               static_cast<unsigned long long>(s.nodes.ended_count.load()),
                               static_cast<unsigned long long>(s.nodes.refused_count.load()));
                  std::abort();
              }
          }) {}
    hang_alarm(const hang_alarm&) = delete;
    hang_alarm& operator=(const hang_alarm&) = delete;
    ~hang_alarm() {
        {
            const std::lock_guard hold(lock_);
            disarmed_ = true;
        }
        changed_.notify_one();
        watcher_.join();
    }

private:
    std::mutex lock_;
    std::condition_variable changed_;
    bool disarmed_ = false;
    std::thread watcher_;
};

void expect_every_node_ended_once(const stress& s) {
    const census& nodes = s.nodes;
    constexpr std::uint8_t complete = census::started | census::ended | census::freed;
    std::uint32_t completed = 0;
    std::uint32_t refused = 0;
    std::uint32_t skipped = 0;
    std::string wrong;
    std::uint32_t wrong_count = 0;
    for (std::uint32_t id = 0; id < nodes.size(); ++id) {
        const std::uint8_t state = nodes.state(id);
        if (state == complete) {
            ++completed;
        } else if (state == census::refused || state == (census::refused | census::freed)) {
            ++refused;
        } else if (state == (census::skipped | census::freed)) {
            ++skipped;
        } else if (++wrong_count <= 20) {
            wrong += " node " + std::to_string(id) + " state " + std::to_string(state) + ";";
        }
    }
    EXPECT_EQ(wrong_count, 0u)
        << "(bits: 1 started, 2 ended, 4 freed, 8 refused, 16 twice, 32 skipped)" << wrong;
    EXPECT_EQ(completed + refused + skipped, nodes.size());
    EXPECT_EQ(skipped, nodes.skipped_count.load());
    EXPECT_EQ(nodes.repeats.load(), 0u);
    EXPECT_EQ(nodes.started_count.load(), nodes.ended_count.load());
    EXPECT_EQ(nodes.started_count.load() + nodes.skipped_count.load() + nodes.refused_count.load(),
              nodes.size());
    EXPECT_EQ(nodes.endings[static_cast<std::size_t>(ending::torn_down)].load(), 0u);
    EXPECT_EQ(nodes.endings[static_cast<std::size_t>(ending::other)].load(), 0u);
}

void run_stress(std::size_t workers, bool foreign_thread, std::uint64_t seed) {
    stress s(total_nodes);
    const std::vector<spec> trees = plan_trees(seed);
    const auto began = std::chrono::steady_clock::now();
    ::testing::internal::CaptureStderr();
    {
        const hang_alarm alarm(s);
        std::jthread outsider;
        if (foreign_thread) {
            outsider = std::jthread(
                [&s, seed](const std::stop_token& stop) { cancel_from_outside(s, seed, stop); });
        }
        weft::run(drive(s, trees, seed),
                  weft::run_options{.workers = workers,
                                    .virtual_time = true,
                                    .shutdown_grace = 1h,
                                    .exception_handler = [&s](std::exception_ptr error) {
                                        s.note_unretrieved(error);
                                    }});
    }
    const std::string report = ::testing::internal::GetCapturedStderr();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
    const std::string report_start = report.substr(0, 4'000);
    EXPECT_EQ(report.find("still pending"), std::string::npos) << report_start;
    EXPECT_TRUE(report.empty()) << report.size() << " bytes on stderr, from:\n" << report_start;
    expect_every_node_ended_once(s);
    EXPECT_EQ(s.unretrieved, 0u) << "exceptions reported as never retrieved, the first: "
                                 << s.first_unretrieved;

    std::printf("[ stress   ] %zu worker%s%s: %zu trees, %u nodes, %llu started, %llu never run "
                "(refused by a failed group or dropped by wait_for); %.3f s real, %.3f s virtual\n",
                workers, workers == 1 ? "" : "s", foreign_thread ? " + foreign thread" : "",
                trees.size(), s.nodes.size(),
                static_cast<unsigned long long>(s.nodes.started_count.load()),
                static_cast<unsigned long long>(s.nodes.refused_count.load()), took.count(),
                static_cast<double>(s.virtual_end_ns.load()) / 1e9);
    std::printf("[ stress   ] ended:");
    for (std::size_t kind = 0; kind < ending_kinds; ++kind) {
        std::printf(" %s %llu%s", ending_names[kind],
                    static_cast<unsigned long long>(s.nodes.endings[kind].load()),
                    kind + 1 < ending_kinds ? "," : "\n");
    }
    std::printf("[ stress   ] cancel() that landed: %llu from workers, %llu from the foreign "
                "thread\n",
                static_cast<unsigned long long>(s.worker_cancels.load()),
                static_cast<unsigned long long>(s.foreign_cancels.load()));
}

TEST(CancellationStress, OneWorker) {
    run_stress(1, false, 1);
}

TEST(CancellationStress, FourWorkers) {
    run_stress(4, false, 2);
}

TEST(CancellationStress, TwoWorkersAndAForeignThreadCancelling) {
    run_stress(2, true, 3);
}

} // namespace
