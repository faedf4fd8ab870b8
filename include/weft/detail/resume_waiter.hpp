// A waiter that, when woken, makes its suspended coroutine ready again on the runtime it
// suspended on. The base of every awaiter that waits on a task or a future.
#pragma once

#include <coroutine>

#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>

namespace weft::detail {

class resume_waiter : public waiter_node {
public:
    // Records who waits and where to resume it; throws weft::runtime_error naming `what`
    // when called outside a runtime.
    void prepare(std::coroutine_handle<> awaiting, const char* what) {
        home_ = &require_scheduler(what);
        awaiting_ = awaiting;
        wake = &resume;
    }

private:
    static void resume(waiter_node& node) noexcept {
        auto& self = static_cast<resume_waiter&>(node);
        schedule(*self.home_, self.awaiting_);
    }

    std::coroutine_handle<> awaiting_;
    scheduler* home_ = nullptr;
};

// What gather needs from a task or a future: its waiter list and its result.
struct completion_access {
    template <class Source>
    static waiter_list& waiters(const Source& source) noexcept {
        return source.waiters();
    }
    template <class Source>
    static auto& result(const Source& source) noexcept {
        return source.stored_result();
    }
};

} // namespace weft::detail
