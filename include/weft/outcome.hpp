// weft::outcome<T>: what a finished awaitable produced, a value or an exception. gather
// with weft::return_exceptions yields one per child instead of throwing; the runtime also
// uses it to hold the result of every coroutine, task and future.
#pragma once

#include <exception>
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

    bool has_value() const noexcept { return state_.index() == 1; }
    bool has_exception() const noexcept { return state_.index() == 2; }

    // The value. Rethrows the stored exception; throws invalid_state_error if empty.
    T& value() & { return check(), std::get<1>(state_); }
    const T& value() const& { return check(), std::get<1>(state_); }
    T&& value() && { return check(), std::move(std::get<1>(state_)); }

    // The stored exception, or a null exception_ptr.
    std::exception_ptr exception() const noexcept {
        return has_exception() ? std::get<2>(state_) : nullptr;
    }

    template <class... Args>
    void emplace_value(Args&&... args) {
        state_.template emplace<1>(std::forward<Args>(args)...);
    }
    void set_exception(std::exception_ptr error) noexcept { state_.template emplace<2>(error); }

private:
    void check() const {
        if (has_exception()) {
            std::rethrow_exception(std::get<2>(state_));
        }
        if (!has_value()) {
            throw invalid_state_error("weft::outcome holds no value yet");
        }
    }

    std::variant<std::monostate, T, std::exception_ptr> state_;
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
