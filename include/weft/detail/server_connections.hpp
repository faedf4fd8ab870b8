// The machinery of weft::net::serve (net/server.hpp): the accept loop, which gives each
// connection a task of its own, the end of the connections still running, and the two ways a
// server ends (cancelled, or gracefully). All of it is generic over the listener, whose
// accept() gives the connection type the handler takes.
//
// The accept loop's state (listener, handler, connection tasks) is shared between serve's
// frame and the loop, which a graceful serve runs as a task beside its stop condition: if
// serve is destroyed or cancelled again while it waits for the loop to end, the loop still
// owns what it touches. Only one of the two touches the state at a time: serve reads the
// connections only once the loop has ended (awaiting its end orders the two).
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/errors.hpp>
#include <weft/sleep.hpp>
#include <weft/task.hpp>
#include <weft/wait.hpp>

namespace weft::net::detail {

// Whether an accept failure is a shortage that passes (Tokio's advice for accept loops).
inline bool accept_may_recover(const std::system_error& error) noexcept {
    const int code = error.code().value();
    return error.code().category() == std::generic_category() &&
           (code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM);
}

// One connection's task. The handler's own frame owns the stream and is destroyed as soon
// as the handler ends, so the socket closes then, not when the server forgets the task.
template <class Handler, class Connection>
coro<> handle_connection(Handler handler, Connection connection) {
    co_await handler(std::move(connection));
}

template <class Listener, class Handler>
struct server_state {
    server_state(Listener listening, Handler handling)
        : listener(std::move(listening)), handler(std::move(handling)) {}

    Listener listener;
    Handler handler;
    std::vector<task<>> connections;
};

// Accepts until cancelled, or until an accept fails for good, which it rethrows. Running
// out of descriptors or memory pauses it for 10 ms instead.
template <class Listener, class Handler>
coro<> accept_connections(std::shared_ptr<server_state<Listener, Handler>> state) {
    std::size_t next_sweep = 64;
    for (;;) {
        typename decltype(state->listener.accept())::value_type accepted;
        bool pause = false;
        try {
            accepted = co_await state->listener.accept();
        } catch (const std::system_error& error) {
            if (!accept_may_recover(error)) {
                throw;
            }
            pause = true;
        }
        if (pause) {
            co_await sleep(std::chrono::milliseconds(10));
            continue;
        }
        state->connections.push_back(
            create_task(handle_connection(state->handler, std::move(accepted))));
        if (state->connections.size() >= next_sweep) { // forget the connections that ended
            std::erase_if(state->connections, [](const task<>& each) { return each.done(); });
            next_sweep = std::max<std::size_t>(64, state->connections.size() * 2);
        }
    }
}

// Cancels the connections still running and waits for them. A handler's own failure is
// reported as never retrieved, as if the server had never held its task: here for the
// tasks still held (cancel() retrieves a finished task's exception), and when its handle
// goes for one forgotten earlier.
inline coro<> end_connections(std::vector<task<>> connections) {
    for (const task<>& each : connections) {
        each.cancel();
    }
    const wait_result<void> ended = co_await wait(std::move(connections));
    for (const task<>& each : ended.done) {
        const std::exception_ptr error = each.exception();
        if (error && !weft::detail::is_cancellation(error)) {
            weft::detail::report_unretrieved(error, weft::detail::task_access::header_of(each));
        }
    }
}

// The stop condition of a graceful serve, as a task of its own.
template <class Stop>
coro<> await_stop(Stop stop) {
    co_await std::move(stop);
}

// The two tasks of a graceful serve, for a wait. Out of the coroutine: g++ 12 rejects an
// initializer list of tasks in a coroutine's body.
inline std::vector<task<>> tasks_of(const task<>& accepting, const task<>& stop) {
    std::vector<task<>> both;
    both.reserve(2);
    both.push_back(accepting);
    both.push_back(stop);
    return both;
}

// The exception that ended `ended` other than a cancellation, or null.
inline std::exception_ptr failure_of(const task<>& ended) {
    const std::exception_ptr error = ended.exception();
    return error && !weft::detail::is_cancellation(error) ? error : nullptr;
}

// serve until cancelled (net/server.hpp).
template <class Listener, class Handler>
coro<> serve_until_cancelled(Listener listener, Handler handler) {
    auto state =
        std::make_shared<server_state<Listener, Handler>>(std::move(listener), std::move(handler));
    std::exception_ptr failure;
    try {
        co_await accept_connections(state);
    } catch (...) { // cancelled_error, the server's end, or an accept that failed for good
        failure = std::current_exception();
    }
    state->listener.close();
    co_await end_connections(std::move(state->connections));
    std::rethrow_exception(failure);
}

// serve until `stop_when` completes, then with `grace` for the connections (net/server.hpp).
template <class Listener, class Handler, awaitable Stop>
coro<> serve_gracefully(Listener listener, Handler handler, Stop stop_when,
                        std::chrono::nanoseconds grace) {
    if (grace < std::chrono::nanoseconds::zero()) {
        throw invalid_argument("weft::net::serve: the grace period is negative (" +
                               std::to_string(grace.count()) + " ns); zero cancels at once");
    }
    auto state =
        std::make_shared<server_state<Listener, Handler>>(std::move(listener), std::move(handler));
    const task<> accepting = create_task(accept_connections(state));
    const task<> stop = create_task(await_stop(std::move(stop_when)));
    std::exception_ptr failure;
    try {
        co_await wait(tasks_of(accepting, stop), return_when::first_completed);
    } catch (...) { // cancelled_error
        failure = std::current_exception();
    }
    accepting.cancel();
    stop.cancel();
    co_await wait(tasks_of(accepting, stop));
    if (!failure) {
        failure = failure_of(accepting);
    }
    state->listener.close();
    if (!failure) {
        try {
            co_await wait(state->connections, return_when::all_completed, grace);
        } catch (...) { // cancelled_error
            failure = std::current_exception();
        }
    }
    co_await end_connections(std::move(state->connections));
    if (!failure) {
        failure = failure_of(stop);
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace weft::net::detail
