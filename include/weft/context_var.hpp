// weft::context_var<T>: a value that follows the flow of a program's tasks (asyncio's
// contextvars.ContextVar), such as a request's id for its log lines.
//
//     weft::context_var<std::string> request_id("request_id", "-");
//     auto token = request_id.set("r-17");   // this task, and tasks it creates from now on
//     log(request_id.get());
//     request_id.reset(std::move(token));     // back to what it was
//
// A task starts with a copy of the context of the code that created it; what either sets
// afterwards the other never sees. A gather's child sees its awaiter's values and keeps what
// it sets to itself; a timeout's body shares its awaiter's context, as asyncio's `async
// with` block does. A to_thread call sees its caller's context, and so does the main
// coroutine of weft::run the calling thread's. Outside any task the context is the thread's
// own. Values are copied in and out; a variable is told apart from others by its identity
// (not its name), so it is not copyable.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <weft/detail/context_variable.hpp>

namespace weft {

template <class T>
class context_var {
public:
    // What set() returns, for reset() to undo that set; it may be used once.
    class token;

    explicit context_var(std::string name) : var_(std::move(name)) {}
    context_var(std::string name, T default_value)
        : var_(std::move(name)), default_(std::make_shared<const T>(std::move(default_value))) {}
    context_var(const context_var&) = delete;
    context_var& operator=(const context_var&) = delete;

    const std::string& name() const noexcept { return var_.name(); }

    // The value in the current context, else the default; weft::lookup_error without either.
    T get() const { return *value_or(default_, true); }
    // The value in the current context, else `fallback` (asyncio's get(default)).
    T get(T fallback) const {
        const std::shared_ptr<const T> found = value_or(nullptr, false);
        return found ? *found : std::move(fallback);
    }
    // Sets the value in the current context.
    token set(T value) { return token(var_.set(std::make_shared<const T>(std::move(value)))); }
    // Restores the value `t`'s set() replaced (or none). Throws weft::invalid_state_error for
    // a token already used, and weft::invalid_argument for one another variable made or
    // made in another context (another task's, another thread's).
    void reset(token t) { var_.reset(std::move(t.change_)); }

    class token {
    public:
        token(token&&) noexcept = default;
        token& operator=(token&&) noexcept = default;

    private:
        friend class context_var;
        explicit token(detail::context_change change) noexcept : change_(std::move(change)) {}
        detail::context_change change_;
    };

private:
    std::shared_ptr<const T> value_or(std::shared_ptr<const T> fallback, bool required) const {
        if (std::shared_ptr<const void> found = var_.find()) {
            return std::static_pointer_cast<const T>(std::move(found));
        }
        if (required && !fallback) {
            var_.throw_unset();
        }
        return fallback;
    }

    detail::context_variable var_;
    std::shared_ptr<const T> default_;
};

} // namespace weft
