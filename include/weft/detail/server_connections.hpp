// The machinery of weft::net::serve (net/server.hpp): the accept loop, which gives each
// connection a task of its own, and the end of the connections still running.
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
#include <system_error>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
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
template <class Handler>
coro<> handle_connection(Handler handler, tcp_stream connection) {
    co_await handler(std::move(connection));
}

template <class Handler>
struct server_state {
    server_state(tcp_listener listening, Handler handling)
        : listener(std::move(listening)), handler(std::move(handling)) {}

    tcp_listener listener;
    Handler handler;
    std::vector<task<>> connections;
};

// Accepts until cancelled, or until an accept fails for good, which it rethrows. Running
// out of descriptors or memory pauses it for 10 ms instead.
template <class Handler>
coro<> accept_connections(std::shared_ptr<server_state<Handler>> state) {
    std::size_t next_sweep = 64;
    for (;;) {
        tcp_stream accepted;
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
            weft::detail::report_unretrieved(error, weft::detail::unretrieved_source::task);
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

} // namespace weft::net::detail
