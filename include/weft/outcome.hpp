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

    outcome() noexcept : error_() {}
    outcome(const outcome& other) requires std::is_copy_constructible_v<T> : error_() {
        copy_from(other);
    }
    outcome(outcome&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T>
        : error_() {
        move_from(other);
    }
    outcome& operator=(const outcome& other) requires std::is_copy_constructible_v<T> {
        if (this != &other) {
            copy_from(other);
        }
        return *this;
    }
    outcome& operator=(outcome&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T> {
        if (this != &other) {
            move_from(other);
        }
        return *this;
    }
    ~outcome() {
        if (holds_value_) {
            value_.~T();
        } else {
            error_.~exception_ptr();
        }
    }

    bool has_value() const noexcept { return holds_value_; }
    bool has_exception() const noexcept { return !holds_value_ && error_ != nullptr; }

    // The value. Rethrows the stored exception; throws invalid_state_error if empty.
    T& value() & { return check(), value_; }
    const T& value() const& { return check(), value_; }
    T&& value() && { return check(), std::move(value_); }

    // The stored exception, or a null exception_ptr.
    std::exception_ptr exception() const noexcept { return holds_value_ ? nullptr : error_; }

    template <class... Args>
    void emplace_value(Args&&... args) {
        if (holds_value_) {
            value_.~T();
            holds_value_ = false;
        } else {
            error_.~exception_ptr();
        }
        if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
            construct_value(std::forward<Args>(args)...);
        } else {
            try {
                construct_value(std::forward<Args>(args)...);
            } catch (...) {
                ::new (static_cast<void*>(&error_)) std::exception_ptr();
                throw;
            }
        }
        holds_value_ = true;
    }
    void set_exception(std::exception_ptr error) noexcept {
        if (holds_value_) {
            value_.~T();
            ::new (static_cast<void*>(&error_)) std::exception_ptr(std::move(error));
            holds_value_ = false;
        } else {
            error_ = std::move(error);
        }
    }

private:
    // A tagged union rather than std::variant: the result of every coroutine lives here, and
    // a variant's destruction and access visit or check its index more than once. Without a
    // value, error_ is always constructed: null while the outcome is empty.

    template <class... Args>
    void construct_value(Args&&... args) {
        // Through const void*: T may be const.
        ::new (const_cast<void*>(static_cast<const void*>(&value_))) T(std::forward<Args>(args)...);
    }
    void check() const {
        if (!holds_value_) [[unlikely]] {
            throw_not_value();
        }
    }
    [[noreturn]] void throw_not_value() const {
        if (error_ != nullptr) {
            std::rethrow_exception(error_);
        }
        throw invalid_state_error("weft::outcome holds no value yet");
    }
    void copy_from(const outcome& other) {
        if (other.holds_value_) {
            emplace_value(other.value_);
        } else {
            set_exception(other.error_);
        }
    }
    void move_from(outcome& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (other.holds_value_) {
            emplace_value(std::move(other.value_));
        } else {
            set_exception(std::move(other.error_));
        }
    }

    union {
        T value_;
        std::exception_ptr error_;
    };
    bool holds_value_ = false;
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
