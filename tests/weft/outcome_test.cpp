// Tests weft::outcome<T> (include/weft/outcome.hpp) on its own: an empty outcome refuses
// value() with invalid_state_error, a value and an exception are kept and read back, a new
// value or exception replaces the old one (which is destroyed exactly once), copies and moves
// carry the state across, a move-only T makes a move-only outcome, and every value an outcome
// made is destroyed once, whatever path it took.
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// Counts the live instances, so a test sees each one destroyed exactly once.
struct counted {
    static inline int live = 0;
    explicit counted(int v) : value(v) { ++live; }
    counted(const counted& other) : value(other.value) { ++live; }
    counted(counted&& other) noexcept : value(other.value) { ++live; }
    counted& operator=(const counted&) = default;
    ~counted() { --live; }
    int value;
};

std::exception_ptr failure(const char* what) {
    return std::make_exception_ptr(std::runtime_error(what));
}

TEST(Outcome, EmptyRefusesValueWithInvalidStateError) {
    weft::outcome<int> empty;
    EXPECT_FALSE(empty.has_value());
    EXPECT_FALSE(empty.has_exception());
    EXPECT_EQ(empty.exception(), nullptr);
    EXPECT_THROW(empty.value(), weft::invalid_state_error);
}

TEST(Outcome, KeepsAValueAndAnException) {
    weft::outcome<std::string> result;
    result.emplace_value("forty-two");
    EXPECT_TRUE(result.has_value());
    EXPECT_EQ(result.value(), "forty-two");
    EXPECT_EQ(result.exception(), nullptr);

    weft::outcome<std::string> failed;
    failed.set_exception(failure("boom"));
    EXPECT_TRUE(failed.has_exception());
    EXPECT_FALSE(failed.has_value());
    EXPECT_NE(failed.exception(), nullptr);
    try {
        failed.value();
        FAIL() << "value() of a failed outcome returned";
    } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "boom");
    }
}

TEST(Outcome, ANewStateReplacesTheOldOneAndDestroysIt) {
    {
        weft::outcome<counted> result;
        result.emplace_value(1);
        EXPECT_EQ(counted::live, 1);
        result.emplace_value(2);
        EXPECT_EQ(counted::live, 1);
        EXPECT_EQ(result.value().value, 2);
        result.set_exception(failure("replaced"));
        EXPECT_EQ(counted::live, 0);
        EXPECT_TRUE(result.has_exception());
        result.emplace_value(3);
        EXPECT_EQ(counted::live, 1);
        EXPECT_EQ(result.exception(), nullptr);
    }
    EXPECT_EQ(counted::live, 0);
}

TEST(Outcome, CopiesAndMovesCarryTheState) {
    {
        weft::outcome<counted> original;
        original.emplace_value(7);
        weft::outcome<counted> copy = original;
        EXPECT_EQ(copy.value().value, 7);
        EXPECT_EQ(original.value().value, 7);
        EXPECT_EQ(counted::live, 2);

        weft::outcome<counted> moved = std::move(copy);
        EXPECT_EQ(moved.value().value, 7);

        weft::outcome<counted> failed;
        failed.set_exception(failure("copied"));
        moved = failed;
        EXPECT_TRUE(moved.has_exception());
        EXPECT_EQ(moved.exception(), failed.exception());

        weft::outcome<counted> empty;
        moved = std::move(empty);
        EXPECT_FALSE(moved.has_value());
        EXPECT_FALSE(moved.has_exception());

        moved = original;
        const weft::outcome<counted>& same = moved;
        moved = same;
        EXPECT_EQ(moved.value().value, 7);
    }
    EXPECT_EQ(counted::live, 0);
}

TEST(Outcome, AMoveOnlyValueMakesAMoveOnlyOutcome) {
    static_assert(!std::is_copy_constructible_v<weft::outcome<std::unique_ptr<int>>>);
    static_assert(std::is_nothrow_move_constructible_v<weft::outcome<std::unique_ptr<int>>>);
    weft::outcome<std::unique_ptr<int>> result;
    result.emplace_value(std::make_unique<int>(5));
    weft::outcome<std::unique_ptr<int>> moved = std::move(result);
    std::unique_ptr<int> taken = std::move(moved).value();
    ASSERT_NE(taken, nullptr);
    EXPECT_EQ(*taken, 5);
}

TEST(Outcome, AVectorOfOutcomesDestroysEveryValueOnce) {
    {
        std::vector<weft::outcome<counted>> outcomes(3);
        outcomes[0].emplace_value(1);
        outcomes[2].set_exception(failure("third"));
        for (int i = 0; i < 100; ++i) {
            outcomes.emplace_back().emplace_value(i);
        }
        EXPECT_EQ(counted::live, 101);
        EXPECT_EQ(outcomes[0].value().value, 1);
        EXPECT_THROW(outcomes[1].value(), weft::invalid_state_error);
        EXPECT_THROW(outcomes[2].value(), std::runtime_error);
    }
    EXPECT_EQ(counted::live, 0);
}

} // namespace
