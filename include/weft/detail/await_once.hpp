// The guard every single-use awaitable keeps (gather, wait, wait_for, timeout,
// with_task_group): the first co_await claims it; a second throws invalid_state_error,
// named after the awaitable. It is a plain flag: an awaitable is awaited on one thread.
#pragma once

#include <string>

#include <weft/errors.hpp>

namespace weft::detail {

class await_once {
public:
    // `what` names the awaitable as a user wrote it ("weft::gather").
    void claim(const char* what) {
        if (claimed_) [[unlikely]] {
            throw_awaited_twice(what);
        }
        claimed_ = true;
    }

private:
    // Out of line, so that claim() stays a test and a store inlined into every await.
    [[noreturn, gnu::noinline, gnu::cold]] static void throw_awaited_twice(const char* what) {
        throw invalid_state_error(std::string("a ") + what + " can be awaited only once");
    }

    bool claimed_ = false;
};

} // namespace weft::detail
