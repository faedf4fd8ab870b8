// The awaiter of weft::lock::scoped(): acquires the lock as lock::acquire() does, then
// yields a lock::guard that releases it. A template on the lock so that lock.hpp can name
// it before the lock and its guard are complete; the guard's type is only needed as the
// await resumes.
#pragma once

#include <coroutine>

#include <weft/semaphore.hpp>

namespace weft::detail {

template <class Lock>
class [[nodiscard]] scoped_lock_awaiter {
public:
    explicit scoped_lock_awaiter(Lock& target) noexcept
        : target_(target), acquiring_(target.acquire()) {}

    bool await_ready() noexcept { return acquiring_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        return acquiring_.await_suspend(awaiting);
    }
    auto await_resume() {
        acquiring_.await_resume();
        return typename Lock::guard(target_);
    }

private:
    Lock& target_;
    semaphore::acquirer acquiring_;
};

} // namespace weft::detail
