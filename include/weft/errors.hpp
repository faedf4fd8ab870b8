// The exceptions weft throws. Each carries a message saying what went wrong; callers catch
// them by these names (or by their standard bases).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

// The runtime cannot do what was asked: no runtime is running on this thread, run() was
// called from inside a runtime, or the runtime has already ended.
class runtime_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An argument weft cannot use: a run_options field out of range (a negative duration, no
// blocking thread), a NaN duration given to sleep, wait_for or timeout. It derives from
// std::invalid_argument, so code catching that keeps working.
class invalid_argument : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A signal number weft cannot wait for (weft::signal_received, run_options::signals): out
// of range, SIGKILL or SIGSTOP, a fault such as SIGSEGV, or a signal the running runtime
// does not watch.
class signal_error : public invalid_argument {
public:
    using invalid_argument::invalid_argument;
};

// An operation does not fit the object's state: result() of an unfinished task, completing
// a future twice. Like asyncio.InvalidStateError, it is a programming error.
class invalid_state_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Thrown into a task at its current suspension point, or its next one, when it is
// cancelled (task::cancel, a gather or timeout giving up on it, the runtime shutting down);
// awaiting a cancelled task throws it too. Like asyncio.CancelledError, which derives from
// BaseException, it derives from no std:: exception, so `catch (const std::exception&)`
// does not swallow a cancellation by accident. A task may catch it to clean up, awaits
// included, and should rethrow it. It carries the message given to task::cancel(message)
// (asyncio's CancelledError(msg)), shared between copies, so copying never throws.
class cancelled_error {
public:
    cancelled_error() noexcept = default;
    explicit cancelled_error(std::string message)
        : message_(std::make_shared<const std::string>(std::move(message))) {}

    // The message given to cancel, or "" for a cancellation without one.
    std::string_view message() const noexcept {
        return message_ ? std::string_view(*message_) : std::string_view();
    }
    // The message, or "the weft task was cancelled" for a cancellation without one.
    const char* what() const noexcept {
        return message_ && !message_->empty() ? message_->c_str() : "the weft task was cancelled";
    }

private:
    std::shared_ptr<const std::string> message_;
};

// A deadline set by weft::wait_for or weft::timeout passed before the work ended; the work
// was cancelled and had ended when this was thrown (asyncio.TimeoutError).
class timeout_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown into a suspended weft::generator at its co_yield by aclose() (or by the close that
// finalization or abandonment runs), so that its cleanup runs: RAII, catch blocks, awaits
// included. Like asyncio's GeneratorExit it derives from no std:: exception, so
// `catch (const std::exception&)` does not swallow it; a generator catching it should end.
class generator_exit {
public:
    generator_exit() noexcept = default;
    const char* what() const noexcept { return "the weft generator is being closed"; }
};

// A generator yielded a value while being closed, instead of ending (asyncio's RuntimeError
// "async generator ignored GeneratorExit"). aclose() throws it; the generator counts as
// finished and is destroyed as it stands.
class generator_ignored_exit : public runtime_error {
public:
    using runtime_error::runtime_error;
};

// A weft::queue (or priority_queue, lifo_queue) was shut down: put() fails at once, and
// get() fails once the queue is empty (asyncio.QueueShutDown). Tasks waiting to put or get
// are woken with it.
class queue_shut_down : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A weft::context_var read where it has no value and no default (asyncio's LookupError).
class lookup_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A weft::barrier was aborted, or reset while the task waited at it (asyncio's
// BrokenBarrierError, a RuntimeError).
class broken_barrier_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Several failures reported together (asyncio's ExceptionGroup): a weft::task_group throws
// one holding every failure of its body and members other than cancelled_error, in the
// order they happened. A nested group's exception_group is one element, not merged. Copies
// share the list, so copying one never throws.
class exception_group : public std::exception {
public:
    explicit exception_group(std::vector<std::exception_ptr> errors)
        : state_(std::make_shared<const state>(state{describe(errors), std::move(errors)})) {}

    // How many errors there are, and the first one's message if it is a std::exception.
    const char* what() const noexcept override { return state_->message.c_str(); }

    const std::vector<std::exception_ptr>& exceptions() const noexcept { return state_->errors; }

private:
    struct state {
        std::string message;
        std::vector<std::exception_ptr> errors;
    };

    static std::string describe(const std::vector<std::exception_ptr>& errors) {
        const std::size_t count = errors.size();
        std::string message =
            std::to_string(count) + (count == 1 ? " error" : " errors") + " in a weft::task_group";
        if (count == 0 || !errors.front()) {
            return message;
        }
        try {
            std::rethrow_exception(errors.front());
        } catch (const std::exception& first) {
            message += "; the first: ";
            message += first.what();
        } catch (...) {
            message += "; the first is not a std::exception";
        }
        return message;
    }

    std::shared_ptr<const state> state_;
};

} // namespace weft
