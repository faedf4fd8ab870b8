// A waiter that, when woken, makes its suspended coroutine ready again on the runtime it
// suspended on, and completion_awaiter, the awaiter of every task and future built on it.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>

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

// What awaiters and gather need from a task or a future: whether it refers to anything,
// its waiter list and its result.
struct completion_access {
    template <class Source>
    static bool empty(const Source& source) noexcept {
        return !source;
    }
    template <class Source>
    static waiter_list& waiters(const Source& source) noexcept {
        return source.waiters();
    }
    template <class Source>
    static auto& result(const Source& source) noexcept {
        return source.stored_result();
    }
};

// `co_await` on a task or a future: waits on its waiter list and returns its result.
// An owning awaiter (`co_await std::move(x)`) keeps the source alive itself and moves the
// result out; the others refer to the awaited handle and copy the result.
template <class Source, bool Owning>
class completion_awaiter : public resume_waiter {
public:
    using value_type = typename Source::value_type;

    explicit completion_awaiter(const Source& source) noexcept requires(!Owning)
        : source_(&source) {}
    explicit completion_awaiter(Source&& source) noexcept requires Owning
        : owned_(std::move(source)),
          source_(&owned_) {}
    completion_awaiter(const completion_awaiter&) = delete;
    ~completion_awaiter() {
        if (!completion_access::empty(*source_)) {
            completion_access::waiters(*source_).remove(*this);
        }
    }

    bool await_ready() const {
        if (completion_access::empty(*source_)) {
            throw invalid_state_error(Source::empty_message);
        }
        return completion_access::waiters(*source_).done();
    }
    bool await_suspend(std::coroutine_handle<> awaiting) {
        prepare(awaiting, Source::await_description);
        return completion_access::waiters(*source_).enqueue(*this);
    }
    value_type await_resume() {
        if constexpr (Owning) {
            return std::move(completion_access::result(*source_)).value();
        } else {
            return completion_access::result(*source_).value();
        }
    }

private:
    struct nothing_owned {};
    [[no_unique_address]] std::conditional_t<Owning, Source, nothing_owned> owned_;
    const Source* source_;
};

} // namespace weft::detail
