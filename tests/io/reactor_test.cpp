// Tests weft::detail::reactor and io_readiness (runtime/io/reactor.cpp, runtime/io/io_source.cpp)
// on pipes, with a runtime that is built but never run (its reactor, and a worker to
// dispatch to): an edge raises the readiness count, an interrupt ends a blocking poll, a
// poll keeps to its deadline, the driver role is exclusive (a worker about to park waits
// out a momentary holder only), a source detached while another thread polls is freed
// only after that poll has been dispatched (ASan would report a use after free otherwise),
// and a source that outlives its reactor is orphaned and released without it, also while
// another thread releases sources during the reactor's destruction.
#include "io/reactor.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "scheduler/runtime.hpp"

namespace {

using weft::detail::interruptible_wait;
using weft::detail::io_source;
using weft::detail::monotonic_ns;
using weft::detail::reactor;

// A runtime's reactor and first worker, without starting the runtime: nothing waits on
// the sources here, so dispatching touches no queue.
struct unstarted_runtime {
    weft::detail::runtime instance{1, weft::run_options{}};
    reactor& io = instance.reactor();
    weft::detail::worker& driver = instance.worker_at(0);
};

struct pipe_pair {
    pipe_pair() {
        int fds[2];
        EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        read_end = fds[0];
        write_end = fds[1];
    }
    ~pipe_pair() {
        close(read_end);
        close(write_end);
    }
    void put(char byte = 'x') const { EXPECT_EQ(write(write_end, &byte, 1), 1); }
    int read_end;
    int write_end;
};

TEST(Reactor, AnEdgeRaisesTheReadinessCount) {
    unstarted_runtime unstarted;
    reactor& io = unstarted.io;
    pipe_pair pipe;
    EXPECT_FALSE(io.in_use());
    io_source* source = io.attach(pipe.read_end, "test");
    EXPECT_TRUE(io.in_use());
    // A fresh pipe is writable on its write end only: nothing to read, nobody woken.
    EXPECT_EQ(io.poll_if_free(unstarted.driver), 0u);
    const std::uint64_t before = source->readable.observe();
    pipe.put();
    EXPECT_EQ(io.poll_if_free(unstarted.driver), 0u);
    EXPECT_EQ(source->readable.observe(), before + 1);
    // Edge-triggered: no new edge without new data.
    EXPECT_EQ(io.poll_if_free(unstarted.driver), 0u);
    EXPECT_EQ(source->readable.observe(), before + 1);
    reactor::release(source);
    EXPECT_FALSE(io.in_use());
}

TEST(Reactor, AnInterruptEndsABlockingPoll) {
    reactor io;
    std::atomic<bool> returned{false};
    ASSERT_TRUE(io.try_drive());
    std::thread driver([&] {
        io.wait_until(interruptible_wait::no_deadline);
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(returned.load());
    io.interrupt();
    driver.join();
    EXPECT_TRUE(returned.load());
    io.stop_driving();
}

TEST(Reactor, APollKeepsToItsDeadline) {
    reactor io;
    const std::uint64_t start = monotonic_ns();
    io.wait_until(start + 5'000'000);
    const std::uint64_t waited = monotonic_ns() - start;
    EXPECT_GE(waited, 5'000'000u);
    EXPECT_LT(waited, 5'000'000'000u); // generous: a loaded machine may be late
}

TEST(Reactor, TheDriverRoleIsExclusive) {
    reactor io;
    EXPECT_TRUE(io.try_drive());
    EXPECT_FALSE(io.try_drive());
    io.stop_driving();
    EXPECT_TRUE(io.try_drive());
    io.stop_driving();
}

TEST(Reactor, ParkingTakesAFreeRoleAndYieldsToAWorkerAlreadyParkedOrAStuckHolder) {
    reactor io;
    ASSERT_TRUE(io.try_drive_to_park());
    EXPECT_FALSE(io.try_drive());         // a parked driver holds the role
    EXPECT_FALSE(io.try_drive_to_park()); // and nobody else parks in the poll
    io.stop_driving();
    ASSERT_TRUE(io.try_drive());          // a momentary holder...
    EXPECT_FALSE(io.try_drive_to_park()); // ...that does not let go is given up on
    io.stop_driving();
    EXPECT_TRUE(io.try_drive_to_park());
    io.stop_driving();
}

// A socket kept after its run ended: the reactor's destruction orphans its source, and
// releasing the source afterwards frees it without touching the reactor (ASan would report
// a heap use after free otherwise).
TEST(Reactor, ASourceThatOutlivesItsReactorIsOrphanedAndReleasedWithoutIt) {
    pipe_pair pipe;
    auto io = std::make_unique<reactor>();
    io_source* kept = io->attach(pipe.read_end, "test");
    io_source* released_in_time = io->attach(pipe.write_end, "test");
    EXPECT_FALSE(kept->orphaned());
    reactor::release(released_in_time);
    io.reset();
    EXPECT_TRUE(kept->orphaned());
    reactor::release(kept);
}

// Sockets closed on another thread while their reactor is destroyed: each source is either
// detached before the destruction ends (which waits for it) or orphaned and then only freed.
TEST(ReactorRace, SourcesReleasedDuringTheReactorsDestruction) {
    for (int round = 0; round < 300; ++round) {
        std::array<pipe_pair, 4> pipes;
        auto io = std::make_unique<reactor>();
        std::vector<io_source*> sources;
        for (const pipe_pair& pipe : pipes) {
            sources.push_back(io->attach(pipe.read_end, "test"));
            sources.push_back(io->attach(pipe.write_end, "test"));
        }
        std::atomic<bool> start{false};
        std::thread closer([&] {
            while (!start.load()) {
            }
            for (io_source* source : sources) {
                reactor::release(source);
            }
        });
        start = true;
        io.reset();
        closer.join();
    }
    SUCCEED();
}

TEST(ReactorRace, ASourceDetachedDuringAPollOutlivesThatPoll) {
    unstarted_runtime unstarted;
    reactor& io = unstarted.io;
    for (int round = 0; round < 1'000; ++round) {
        pipe_pair pipe;
        io_source* source = io.attach(pipe.read_end, "test");
        std::atomic<bool> polling{false};
        std::thread driver([&] {
            while (!io.try_drive()) {
            }
            polling = true;
            io.wait_until(monotonic_ns() + 2'000'000);
            io.dispatch(unstarted.driver);
            io.stop_driving();
        });
        while (!polling.load()) {
        }
        pipe.put(); // an event for the source, maybe copied out before the detach
        reactor::release(source);
        driver.join();
    }
    SUCCEED();
}

} // namespace
