// The exceptions weft throws. Each carries a message saying what went wrong; callers catch
// them by these names (or by their standard bases).
#pragma once

#include <stdexcept>

namespace weft {

// The runtime cannot do what was asked: no runtime is running on this thread, run() was
// called from inside a runtime, or the runtime has already ended.
class runtime_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
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
// included, and should rethrow it.
class cancelled_error {
public:
    cancelled_error() noexcept = default;
    const char* what() const noexcept { return "the weft task was cancelled"; }
};

// A deadline set by weft::wait_for or weft::timeout passed before the work ended; the work
// was cancelled and had ended when this was thrown (asyncio.TimeoutError).
class timeout_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace weft
