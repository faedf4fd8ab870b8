// weft::generator<T>: an asynchronous generator (asyncio's async generator). A coroutine
// returning generator<T> co_yields values and may co_await anything between them; it runs
// only when its consumer asks for the next value, inline on the consumer's worker.
//
//     weft::generator<int> ticks(int count) {
//         for (int i = 0; i < count; ++i) {
//             co_await weft::sleep(1s);
//             co_yield i;
//         }
//     }
//     auto gen = ticks(3);
//     while (auto tick = co_await gen.next()) use(*tick);   // std::optional<int>
//
// next() yields std::nullopt once the generator ended (asyncio's StopAsyncIteration); an
// exception the generator throws reaches the consumer from that next(), and the generator is
// then finished. Cancelling the consumer while it awaits next() cancels what the generator
// awaits. aclose() throws weft::generator_exit into a suspended generator so that its cleanup
// runs (awaits included); a generator that yields instead makes aclose() throw
// generator_ignored_exit. Closing one that never started or has finished does nothing.
//
// A generator is move-only and read by one coroutine at a time (a second next() or aclose()
// while one runs throws invalid_state_error). Dropping one suspended mid-iteration closes it
// in a task of its own on the runtime; weft::run closes every generator still suspended when
// main and its tasks have ended (asyncio's shutdown_asyncgens), before the runtime stops.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/generator_promise.hpp>
#include <weft/errors.hpp>

namespace weft {

template <class T>
class [[nodiscard]] generator {
    static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                  "weft::generator<T>: T is the type of the values moved to the consumer");

public:
    using promise_type = detail::generator_promise<T>;
    using value_type = T;

    generator(generator&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    generator& operator=(generator&& other) noexcept {
        if (this != &other) {
            let_go();
            frame_ = std::exchange(other.frame_, {});
        }
        return *this;
    }
    ~generator() { let_go(); }

    // An awaitable yielding std::optional<T>: the next value, or nullopt once it ended.
    detail::generator_next_awaiter<T> next() {
        if (!frame_) {
            throw invalid_state_error("weft::generator::next: the generator is empty (moved "
                                      "from)");
        }
        return detail::generator_next_awaiter<T>(frame_);
    }

    // An awaitable that closes the generator (see above).
    detail::generator_close_awaiter<T> aclose() noexcept {
        return detail::generator_close_awaiter<T>(frame_, false, false);
    }

    // True once the generator ended, was closed, or was moved from.
    bool done() const noexcept {
        // acquire: the frame's last step happened before a caller that sees it finished.
        return !frame_ || frame_.promise().node.state.load(std::memory_order_acquire) ==
                              detail::generator_state::finished;
    }

private:
    friend promise_type;

    explicit generator(detail::generator_handle<T> frame) noexcept : frame_(frame) {}

    void let_go() noexcept;

    detail::generator_handle<T> frame_;
};

namespace detail {

template <class T>
generator<T> generator_promise<T>::get_return_object() noexcept {
    const auto frame = generator_handle<T>::from_promise(*this);
    node.frame = frame.address();
    node.make_finalizer = &make_generator_finalizer<T>;
    return generator<T>(frame);
}

// The task that closes a generator dropped mid-iteration: `owner` holds `frame` from then on,
// and frees it with this coroutine.
template <class T>
coro<> close_abandoned([[maybe_unused]] generator<T> owner, generator_handle<T> frame) {
    co_await generator_close_awaiter<T>(frame, false, true);
}

} // namespace detail

template <class T>
void generator<T>::let_go() noexcept {
    if (!frame_) {
        return;
    }
    switch (detail::release_generator(frame_.promise().node)) {
    case detail::generator_release::free_now:
        detail::destroy_generator_frame(std::exchange(frame_, {}));
        return;
    case detail::generator_release::close_on_worker: {
        const detail::generator_handle<T> frame = std::exchange(frame_, {});
        detail::launch_closer(
            detail::make_closer_task(detail::close_abandoned(generator(frame), frame)));
        return;
    }
    case detail::generator_release::left_to_finalizer:
        frame_ = {};
        return;
    }
}

} // namespace weft
