// weft::outcome<T>: what a finished awaitable produced, a value or an exception. gather
// with weft::return_exceptions yields one per child instead of throwing; the runtime also
// uses it to hold the result of every coroutine, task and future.
#pragma once

#include <exception>
#include <new>
#include <type_traits>
#include <utility>
#include <variant>

#include <weft/errors.hpp>

namespace weft {

namespace detail {
// How a result of type T is stored in tuples and vectors: void becomes std::monostate.
template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
} // namespace detail

template <class T>
class outcome {
public:
    using value_type = T;

    outcome() noexcept {}
    outcome(const outcome& other) requires std::is_copy_constructible_v<T> { copy_from(other); }
    outcome(outcome&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T> {
        move_from(other);
    }
    outcome& operator=(const outcome& other) requires std::is_copy_constructible_v<T> {
        if (this != &other) {
            reset();
            copy_from(other);
        }
        return *this;
    }
    outcome& operator=(outcome&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T> {
        if (this != &other) {
            reset();
            move_from(other);
        }
        return *this;
    }
    ~outcome() { reset(); }

    bool has_value() const noexcept { return state_ == state::value; }
    bool has_exception() const noexcept { return state_ == state::error; }

    // The value. Rethrows the stored exception; throws invalid_state_error if empty.
    T& value() & { return check(), value_; }
    const T& value() const& { return check(), value_; }
    T&& value() && { return check(), std::move(value_); }

    // The stored exception, or a null exception_ptr.
    std::exception_ptr exception() const noexcept { return has_exception() ? error_ : nullptr; }

    template <class... Args>
    void emplace_value(Args&&... args) {
        reset();
        // Through const void*: T may be const.
        ::new (const_cast<void*>(static_cast<const void*>(&value_))) T(std::forward<Args>(args)...);
        state_ = state::value;
    }
    void set_exception(std::exception_ptr error) noexcept {
        reset();
        ::new (static_cast<void*>(&error_)) std::exception_ptr(std::move(error));
        state_ = state::error;
    }

private:
    // A tagged union rather than std::variant: the result of every coroutine lives here, and
    // a variant's destruction and access visit or check its index more than once.
    enum class state : unsigned char { empty, value, error };

    void check() const {
        if (state_ != state::value) [[unlikely]] {
            throw_not_value();
        }
    }
    [[noreturn]] void throw_not_value() const {
        if (has_exception()) {
            std::rethrow_exception(error_);
        }
        throw invalid_state_error("weft::outcome holds no value yet");
    }
    // Empty afterwards; what was held is destroyed.
    void reset() noexcept {
        if (state_ == state::value) {
            value_.~T();
        } else if (state_ == state::error) {
            error_.~exception_ptr();
        }
        state_ = state::empty;
    }
    // Both on an empty *this.
    void copy_from(const outcome& other) {
        if (other.state_ == state::value) {
            emplace_value(other.value_);
        } else if (other.state_ == state::error) {
            set_exception(other.error_);
        }
    }
    void move_from(outcome& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (other.state_ == state::value) {
            emplace_value(std::move(other.value_));
        } else if (other.state_ == state::error) {
            set_exception(std::move(other.error_));
        }
    }

    union {
        T value_;
        std::exception_ptr error_;
    };
    state state_ = state::empty;
};

template <>
class outcome<void> {
public:
    using value_type = void;

    bool has_value() const noexcept { return has_value_; }
    bool has_exception() const noexcept { return error_ != nullptr; }

    // Rethrows the stored exception; throws invalid_state_error if empty.
    void value() const {
        if (error_) {
            std::rethrow_exception(error_);
        }
        if (!has_value_) {
            throw invalid_state_error("weft::outcome holds no value yet");
        }
    }
    std::exception_ptr exception() const noexcept { return error_; }

    void emplace_value() noexcept { has_value_ = true; }
    void set_exception(std::exception_ptr error) noexcept { error_ = error; }

private:
    bool has_value_ = false;
    std::exception_ptr error_;
};

} // namespace weft
