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

} // namespace weft
