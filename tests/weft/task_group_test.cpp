// Tests weft::task_group and weft::with_task_group (include/weft/task_group.hpp) and
// weft::exception_group: the body's value once every member ended, members referring to
// the awaiting coroutine's locals, the first failure cancelling the rest, every failure
// reported in order, cancelled members being no failure, cancellation of the awaiting task
// (also pending before the await), create_task refused after a failure and after the end,
// any awaitable as a member and a group as a task, nested groups, members creating
// members, 10,000 members, a group pending at shutdown, and races of failures against
// cancellation on two workers. The header is included first to check it stands alone.
#include <weft/task_group.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;
using weft::testing::two_virtual_workers;
using weft::testing::value_after;

weft::coro<int> fail_after(std::chrono::nanoseconds delay, std::string message) {
    co_await weft::sleep(delay);
    throw std::runtime_error(message);
}

// Sleeps `delay`; counts a cancellation, then takes `cleanup` of time before it rethrows.
weft::coro<> sleeper(std::chrono::nanoseconds delay, std::atomic<int>& cancelled,
                     std::chrono::nanoseconds cleanup = 0s) {
    bool was_cancelled = false;
    try {
        co_await weft::sleep(delay);
    } catch (const weft::cancelled_error&) {
        was_cancelled = true; // C++ allows no co_await inside a handler
    }
    if (was_cancelled) {
        co_await weft::sleep(cleanup);
        cancelled.fetch_add(1);
        throw weft::cancelled_error();
    }
}

// The messages of an exception_group's errors, in order.
std::vector<std::string> messages_of(const weft::exception_group& group) {
    std::vector<std::string> messages;
    for (const std::exception_ptr& error : group.exceptions()) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            messages.emplace_back(e.what());
        }
    }
    return messages;
}

TEST(TaskGroup, YieldsTheBodysValueOnceEveryMemberEnded) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            weft::task<int> unawaited;
            const int value =
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<int> {
                    weft::task<int> a = group.create_task(value_after(1s, 1));
                    unawaited = group.create_task(value_after(5s, 2));
                    co_return co_await a + 40;
                });
            EXPECT_EQ(value, 41);
            EXPECT_EQ(weft::clock::now() - start, 5s); // the await outlived the body
            EXPECT_TRUE(unawaited.done());
            EXPECT_EQ(unawaited.result(), 2);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, AVoidBodyGivesVoidAndAnEmptyGroupEndsAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            int ran = 0;
            auto empty = weft::with_task_group([&](weft::task_group&) -> weft::coro<> {
                ++ran;
                co_return;
            });
            static_assert(std::is_void_v<weft::await_result_t<decltype(empty)>>);
            const weft::clock::time_point start = weft::clock::now();
            co_await std::move(empty);
            EXPECT_EQ(ran, 1);
            EXPECT_EQ(weft::clock::now(), start);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, MembersMayReferToTheAwaitingCoroutinesLocals) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<int> squares(100, 0);
            co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                for (int i = 0; i < 100; ++i) {
                    group.create_task([](int& slot, int i) -> weft::coro<> {
                        co_await weft::sleep(std::chrono::milliseconds(100 - i));
                        slot = i * i;
                    }(squares[i], i));
                }
                co_return; // the members are still running
            });
            for (int i = 0; i < 100; ++i) {
                EXPECT_EQ(squares[i], i * i);
            }
        }(),
        two_virtual_workers);
}

TEST(TaskGroup, FirstFailureCancelsTheOtherMembersAndTheBody) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            bool body_cancelled = false;
            const weft::clock::time_point start = weft::clock::now();
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(sleeper(1h, cancelled));
                    group.create_task(fail_after(1s, "boom"));
                    group.create_task(sleeper(2h, cancelled, 3s));
                    try {
                        co_await weft::sleep(1h);
                    } catch (const weft::cancelled_error&) {
                        body_cancelled = true;
                        throw;
                    }
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), std::vector<std::string>{"boom"});
                EXPECT_STREQ(failures.what(), "1 error in a weft::task_group; the first: boom");
            }
            EXPECT_TRUE(body_cancelled);
            EXPECT_EQ(cancelled.load(), 2);
            EXPECT_EQ(weft::clock::now() - start, 4s); // the slow cleanup was waited for
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, FailuresAtTheSameInstantAreAllReportedInOrder) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(fail_after(1s, "first"));
                    group.create_task(sleeper(1h, cancelled));
                    group.create_task(fail_after(1s, "second"));
                    co_return;
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), (std::vector<std::string>{"first", "second"}));
                EXPECT_STREQ(failures.what(), "2 errors in a weft::task_group; the first: first");
            }
            EXPECT_EQ(cancelled.load(), 1);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, TheBodysFailureIsOneOfTheErrors) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            // The body fails first: the members are cancelled.
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(sleeper(1h, cancelled));
                    co_await weft::sleep(1s);
                    throw std::runtime_error("body");
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), std::vector<std::string>{"body"});
            }
            EXPECT_EQ(cancelled.load(), 1);

            // A member fails first; the body, cancelled, fails too while cleaning up.
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(fail_after(1s, "member"));
                    try {
                        co_await weft::sleep(1h);
                    } catch (const weft::cancelled_error&) {
                        throw std::runtime_error("body cleanup");
                    }
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures),
                          (std::vector<std::string>{"member", "body cleanup"}));
            }
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, MembersEndingByCancellationAloneAreNoFailure) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            weft::task<> victim;
            const int value =
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<int> {
                    victim = group.create_task(sleeper(1h, cancelled));
                    group.create_task([]() -> weft::coro<> {
                        co_await weft::sleep(2s);
                        throw weft::cancelled_error(); // gives up by itself
                    }());
                    weft::task<int> survivor = group.create_task(value_after(3s, 7));
                    co_await weft::sleep(1s);
                    EXPECT_TRUE(victim.cancel());
                    co_return co_await survivor;
                });
            EXPECT_EQ(value, 7);
            EXPECT_TRUE(victim.cancelled());
            EXPECT_EQ(cancelled.load(), 1);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, CancellingTheAwaitingTaskCancelsEveryMemberAndWaitsForThem) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            std::atomic<bool> body_cleaned_up{false};
            std::atomic<bool> after_group{false};
            weft::task<> outer = weft::create_task(
                [](std::atomic<int>& cancelled, std::atomic<bool>& body_cleaned_up,
                   std::atomic<bool>& after_group) -> weft::coro<> {
                    co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                        group.create_task(sleeper(1h, cancelled, 3s));
                        group.create_task(sleeper(2h, cancelled));
                        bool stopping = false;
                        try {
                            co_await weft::sleep(1h);
                        } catch (const weft::cancelled_error&) {
                            stopping = true;
                        }
                        if (stopping) {
                            co_await weft::sleep(1s);
                            body_cleaned_up.store(true);
                            throw weft::cancelled_error();
                        }
                    });
                    after_group.store(true);
                }(cancelled, body_cleaned_up, after_group));
            co_await weft::sleep(1s);
            const weft::clock::time_point cancelled_at = weft::clock::now();

            EXPECT_TRUE(outer.cancel());
            EXPECT_THROW(co_await outer, weft::cancelled_error);

            EXPECT_TRUE(outer.cancelled());
            EXPECT_EQ(weft::clock::now() - cancelled_at, 3s); // the slowest cleanup
            EXPECT_EQ(cancelled.load(), 2);
            EXPECT_TRUE(body_cleaned_up.load());
            EXPECT_FALSE(after_group.load());
        }(),
        two_virtual_workers);
}

TEST(TaskGroup, CancellingTheAwaitingTaskStillReportsRealFailures) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> outer = weft::create_task([]() -> weft::coro<> {
                co_await weft::with_task_group([](weft::task_group& group) -> weft::coro<> {
                    group.create_task([]() -> weft::coro<> {
                        try {
                            co_await weft::sleep(1h);
                        } catch (const weft::cancelled_error&) {
                            throw std::runtime_error("cleanup failed");
                        }
                    }());
                    co_await weft::sleep(1h);
                });
            }());
            co_await weft::sleep(1s);
            outer.cancel();
            try {
                co_await outer;
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), std::vector<std::string>{"cleanup failed"});
            }
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, ACancellationPendingBeforeTheAwaitStartsEveryMemberCancelled) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            weft::task<> member;
            weft::task<> self;
            self = weft::create_task([](weft::task<>& me, std::atomic<int>& cancelled,
                                        weft::task<>& member) -> weft::coro<> {
                co_await weft::sleep(0s);
                me.cancel(); // running: pending until the group's await
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    member = group.create_task(sleeper(1h, cancelled)); // accepted, cancelled
                    co_await weft::sleep(1h);
                });
            }(self, cancelled, member));
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_THROW(co_await self, weft::cancelled_error);
            EXPECT_TRUE(member);
            EXPECT_TRUE(member.cancelled());
            EXPECT_EQ(cancelled.load(), 0); // cancelled before its first step: it never ran
            EXPECT_EQ(weft::clock::now(), start);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, CreateTaskAfterAFailureThrowsRuntimeError) {
    weft::run(
        []() -> weft::coro<> {
            bool refused = false;
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(fail_after(1s, "boom"));
                    bool cancelled = false;
                    try {
                        co_await weft::sleep(1h);
                    } catch (const weft::cancelled_error&) {
                        cancelled = true;
                    }
                    EXPECT_TRUE(cancelled);
                    try {
                        group.create_task(value_after(1s, 1));
                    } catch (const weft::runtime_error& e) {
                        refused = std::string(e.what()).find("shutting down") != std::string::npos;
                    }
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), std::vector<std::string>{"boom"});
            }
            EXPECT_TRUE(refused);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, CreateTaskAfterTheEndThrowsAndTheGroupIsAwaitedOnce) {
    weft::run(
        []() -> weft::coro<> {
            weft::task_group* seen = nullptr;
            auto group = weft::with_task_group([&](weft::task_group& g) -> weft::coro<int> {
                seen = &g;
                co_return 3;
            });
            EXPECT_EQ(co_await group, 3);
            try {
                seen->create_task(value_after(1s, 1));
                ADD_FAILURE() << "create_task did not throw";
            } catch (const weft::runtime_error& e) {
                EXPECT_NE(std::string(e.what()).find("has ended"), std::string::npos);
            }
            EXPECT_THROW(co_await group, weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, CreateTaskTakesAnyAwaitableAndRefusesAnEmptyCoro) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> existing = weft::create_task(value_after(2s, 5));
            const int total =
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<int> {
                    weft::task<> nap = group.create_task(weft::sleep(1s));
                    weft::task<int> waited = group.create_task(existing);
                    weft::task<std::tuple<int, int>> both =
                        group.create_task(weft::gather(value_after(1s, 1), value_after(1s, 2)));
                    weft::coro<int> empty = value_after(1s, 0);
                    co_await std::move(empty);
                    EXPECT_THROW(group.create_task(std::move(empty)), weft::invalid_state_error);
                    co_await nap;
                    auto [a, b] = co_await both;
                    co_return co_await waited + a + b;
                });
            EXPECT_EQ(total, 8);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, AGroupIsAnAwaitableThatCreateTaskAccepts) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> outer = weft::create_task(
                weft::with_task_group([](weft::task_group& group) -> weft::coro<int> {
                    weft::task<int> inner = group.create_task(
                        weft::with_task_group([](weft::task_group& nested) -> weft::coro<int> {
                            co_return co_await nested.create_task(value_after(1s, 20));
                        }));
                    co_return co_await inner + 1;
                }));
            EXPECT_EQ(co_await outer, 21);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, NestedGroupsReportAndCancelThroughEachOther) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            // A failure deep inside: the inner group's exception_group is one outer error.
            try {
                co_await weft::with_task_group([&](weft::task_group& outer) -> weft::coro<> {
                    outer.create_task(sleeper(1h, cancelled));
                    outer.create_task([](std::atomic<int>& cancelled) -> weft::coro<> {
                        co_await weft::with_task_group(
                            [&](weft::task_group& inner) -> weft::coro<> {
                                inner.create_task(sleeper(1h, cancelled));
                                inner.create_task(fail_after(1s, "deep"));
                                co_return;
                            });
                    }(cancelled));
                    co_return;
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(failures.exceptions().size(), 1u);
                try {
                    std::rethrow_exception(failures.exceptions().at(0));
                } catch (const weft::exception_group& inner) {
                    EXPECT_EQ(messages_of(inner), std::vector<std::string>{"deep"});
                } catch (...) {
                    ADD_FAILURE() << "the outer error is not the inner group";
                }
            }
            EXPECT_EQ(cancelled.load(), 2);

            // Cancelling the outermost awaiting task reaches the inner group's members.
            cancelled.store(0);
            weft::task<> top = weft::create_task([](std::atomic<int>& cancelled) -> weft::coro<> {
                co_await weft::with_task_group([&](weft::task_group& outer) -> weft::coro<> {
                    outer.create_task([](std::atomic<int>& cancelled) -> weft::coro<> {
                        co_await weft::with_task_group(
                            [&](weft::task_group& inner) -> weft::coro<> {
                                inner.create_task(sleeper(1h, cancelled));
                                inner.create_task(sleeper(1h, cancelled));
                                co_await weft::sleep(1h);
                            });
                    }(cancelled));
                    co_await weft::sleep(1h);
                });
            }(cancelled));
            co_await weft::sleep(1s);
            top.cancel();
            EXPECT_THROW(co_await top, weft::cancelled_error);
            EXPECT_EQ(cancelled.load(), 2);
        }(),
        two_virtual_workers);
}

weft::coro<> spread(weft::task_group& group, int depth, std::atomic<int>& ran) {
    ran.fetch_add(1);
    co_await weft::sleep(1ms);
    if (depth > 0) {
        for (int i = 0; i < 3; ++i) {
            group.create_task(spread(group, depth - 1, ran));
        }
    }
}

TEST(TaskGroup, MembersCreateMembers) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> ran{0};
            co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                group.create_task(spread(group, 6, ran));
                co_return;
            });
            EXPECT_EQ(ran.load(), 1093); // 1 + 3 + ... + 3^6
        }(),
        two_virtual_workers);
}

TEST(TaskGroup, TenThousandMembersOnTwoWorkers) {
    weft::run(
        []() -> weft::coro<> {
            constexpr int members = 10'000;
            std::atomic<int> ended{0};
            std::vector<weft::task<int>> handles;
            const long total =
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<long> {
                    for (int i = 0; i < members; ++i) {
                        handles.push_back(group.create_task(
                            [](int i, std::atomic<int>& ended) -> weft::coro<int> {
                                co_await weft::sleep(std::chrono::milliseconds(i % 7));
                                ended.fetch_add(1);
                                co_return i;
                            }(i, ended)));
                    }
                    co_return 0;
                });
            EXPECT_EQ(total, 0);
            EXPECT_EQ(ended.load(), members);
            long sum = 0;
            for (const weft::task<int>& each : handles) {
                EXPECT_TRUE(each.done());
                sum += each.result();
            }
            EXPECT_EQ(sum, static_cast<long>(members) * (members - 1) / 2);

            // The same width with one failure: every other member ends, done or cancelled.
            std::atomic<int> finished{0};
            std::atomic<int> cancelled{0};
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    for (int i = 0; i < members; ++i) {
                        group.create_task([](int i, int failing, std::atomic<int>& finished,
                                             std::atomic<int>& cancelled) -> weft::coro<> {
                            try {
                                co_await weft::sleep(std::chrono::milliseconds(i % 13));
                            } catch (const weft::cancelled_error&) {
                                cancelled.fetch_add(1);
                                throw;
                            }
                            if (i == failing) {
                                throw std::runtime_error("one of many");
                            }
                            finished.fetch_add(1);
                        }(i, members / 2, finished, cancelled));
                    }
                    co_return;
                });
                ADD_FAILURE() << "the group did not throw";
            } catch (const weft::exception_group& failures) {
                EXPECT_EQ(messages_of(failures), std::vector<std::string>{"one of many"});
            }
            EXPECT_EQ(finished.load() + cancelled.load(), members - 1);
            EXPECT_GT(cancelled.load(), 0);
        }(),
        two_virtual_workers);
}

// Races, in real time on two workers: members fail at random moments while the awaiting
// task is cancelled at another, and the body creates members meanwhile (until a failure
// refuses it). Whatever wins, every member ends exactly once, the await ends only after
// all of them, and it throws the exception_group with every failure if any member failed,
// else cancelled_error.
// asyncio 3.11's bug class in a group: a member fails while the awaiting task is cancelled
// from outside. The failures still take priority (the await throws the exception_group),
// but the cancellation is not swallowed: it stays pending, counted, with its message, and
// the task's next suspension point delivers it (asyncio 3.13 re-cancels the parent).
TEST(TaskGroup, AFailureDoesNotSwallowACancellationOfTheAwaitingTask) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cancelled{0};
            bool saw_group = false;
            bool went_on = false;
            weft::task<> outer = weft::create_task([](std::atomic<int>& cancelled, bool& saw_group,
                                                      bool& went_on) -> weft::coro<> {
                try {
                    co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                        group.create_task(fail_after(10s, "member failed"));
                        co_await sleeper(1h, cancelled, 1s); // cleans up for a second
                    });
                } catch (const weft::exception_group& failures) {
                    saw_group = true;
                    EXPECT_EQ(messages_of(failures), std::vector<std::string>{"member failed"});
                }
                co_await weft::sleep(1s); // the outer cancellation lands here
                went_on = true;
            }(cancelled, saw_group, went_on));
            co_await weft::sleep(10s + 500ms); // the body is cleaning up after the failure
            EXPECT_TRUE(outer.cancel("from outside"));
            try {
                co_await outer;
                ADD_FAILURE() << "the outer cancellation was swallowed";
            } catch (const weft::cancelled_error& error) {
                EXPECT_EQ(error.message(), "from outside");
            }
            EXPECT_TRUE(saw_group);
            EXPECT_FALSE(went_on);
            EXPECT_EQ(cancelled.load(), 1);
            EXPECT_EQ(outer.cancelling(), 1u);
        }(),
        one_virtual_worker);
}

// Without a failure the group's await itself throws the cancellation, with its message.
TEST(TaskGroup, ACancelledGroupThrowsTheAwaitingTasksMessage) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> outer = weft::create_task([]() -> weft::coro<> {
                try {
                    co_await weft::with_task_group([](weft::task_group& group) -> weft::coro<> {
                        group.create_task(weft::sleep(1h));
                        co_await weft::sleep(1h);
                    });
                } catch (const weft::cancelled_error& error) {
                    EXPECT_EQ(error.message(), "stop");
                    throw;
                }
            }());
            co_await weft::sleep(1s);
            outer.cancel("stop");
            EXPECT_THROW(co_await outer, weft::cancelled_error);
        }(),
        one_virtual_worker);
}

TEST(TaskGroup, TheGroupsCancellationOfAMemberIsCounted) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> member;
            try {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    member = group.create_task(weft::sleep(1h));
                    group.create_task(fail_after(1s, "failed"));
                    co_return;
                });
            } catch (const weft::exception_group&) {
            }
            EXPECT_TRUE(member.cancelled());
            EXPECT_EQ(member.cancelling(), 1u);
        }(),
        one_virtual_worker);
}

TEST(TaskGroupRace, FailuresAgainstCancellationOfTheAwaitingTask) {
    constexpr int rounds = 1'000;
    constexpr int members = 16;
    weft::run(
        []() -> weft::coro<> {
            std::minstd_rand random(17);
            for (int round = 0; round < rounds; ++round) {
                std::atomic<int> started{0};
                std::atomic<int> ended{0};
                std::atomic<int> failed{0};
                const unsigned seed = static_cast<unsigned>(random());
                weft::task<> outer = weft::create_task([](unsigned seed, std::atomic<int>& started,
                                                          std::atomic<int>& ended,
                                                          std::atomic<int>& failed)
                                                           -> weft::coro<> {
                    co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                        std::minstd_rand random(seed);
                        for (int i = 0; i < members; ++i) {
                            const unsigned steps = random() % 8;
                            const bool fails = random() % 5 == 0;
                            bool refused = false;
                            try {
                                group.create_task([](unsigned steps, bool fails,
                                                     std::atomic<int>& started,
                                                     std::atomic<int>& ended,
                                                     std::atomic<int>& failed) -> weft::coro<> {
                                    started.fetch_add(1);
                                    struct on_exit {
                                        std::atomic<int>& ended;
                                        ~on_exit() { ended.fetch_add(1); }
                                    } count_end{ended};
                                    for (unsigned step = 0; step < steps; ++step) {
                                        co_await weft::sleep(0s); // may hop to the other worker
                                    }
                                    if (fails) {
                                        failed.fetch_add(1);
                                        throw std::runtime_error("random failure");
                                    }
                                }(steps, fails, started, ended, failed));
                            } catch (const weft::runtime_error&) {
                                refused = true; // a member failed: no more members
                            }
                            if (refused) {
                                break;
                            }
                            co_await weft::sleep(0s);
                        }
                    });
                }(seed, started, ended, failed));
                for (unsigned yield = random() % 40; yield > 0; --yield) {
                    co_await weft::sleep(0s);
                }
                outer.cancel();
                try {
                    co_await outer;
                    EXPECT_EQ(failed.load(), 0);
                } catch (const weft::exception_group& failures) {
                    EXPECT_EQ(failures.exceptions().size(), static_cast<std::size_t>(failed));
                } catch (const weft::cancelled_error&) {
                    EXPECT_EQ(failed.load(), 0);
                }
                EXPECT_EQ(ended.load(), started.load());
            }
        }(),
        weft::run_options{.workers = 2});
}

// A group still waiting when main returns is cancelled with the runtime's other pending
// tasks: its members' cleanup runs, and nothing is left behind (the ASan build checks).
TEST(TaskGroup, AGroupPendingWhenRunEndsIsCancelledWithTheRest) {
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& cancelled) -> weft::coro<> {
            weft::create_task([](std::atomic<int>& cancelled) -> weft::coro<> {
                co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<> {
                    group.create_task(sleeper(1h, cancelled));
                    group.create_task(sleeper(2h, cancelled, 1s));
                    co_await weft::sleep(3h);
                });
            }(cancelled));
            co_await weft::sleep(1s);
        }(cancelled),
        one_virtual_worker);
    EXPECT_EQ(cancelled.load(), 2);
}

TEST(ExceptionGroup, DescribesItsErrorsAndKeepsThemInOrder) {
    const weft::exception_group two({std::make_exception_ptr(std::logic_error("x")),
                                     std::make_exception_ptr(std::runtime_error("y"))});
    EXPECT_STREQ(two.what(), "2 errors in a weft::task_group; the first: x");
    ASSERT_EQ(two.exceptions().size(), 2u);
    EXPECT_THROW(std::rethrow_exception(two.exceptions()[1]), std::runtime_error);

    const weft::exception_group odd({std::make_exception_ptr(42)});
    EXPECT_STREQ(odd.what(), "1 error in a weft::task_group; the first is not a std::exception");

    const weft::exception_group copy = two; // copies share the list
    EXPECT_EQ(&copy.exceptions(), &two.exceptions());
    const std::exception& as_standard = copy;
    EXPECT_STREQ(as_standard.what(), two.what());
}

} // namespace
