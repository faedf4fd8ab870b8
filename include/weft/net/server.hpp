// weft::net::serve and weft::net::start_server: a task per connection (asyncio.start_server).
//
//     weft::coro<> echo(weft::net::tcp_stream conn) { ... }
//     co_await weft::net::start_server(echo, "0.0.0.0", 8080);   // until cancelled
//
//     auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
//     std::uint16_t port = listener.local_port();                 // to tell clients
//     co_await weft::net::serve(std::move(listener), echo);
//
// Each accepted connection is passed to a copy of `handler(tcp_stream)`, which returns a
// weft::coro<>, run as a task of its own; the connection closes when the handler ends. The server
// runs until cancelled; it then stops accepting, cancels every connection task still running, waits
// for them and ends in cancelled_error. A handler that fails ends only its own connection; its
// exception is reported like any task's that nobody retrieved (run_options::exception_handler, or
// stderr). Running out of descriptors (EMFILE, ENFILE) or memory for a connection pauses
// accepting for 10 ms instead of ending the server, as Tokio advises; other accept errors
// end it (after its connections) with that std::system_error.
//
// Graceful shutdown (asyncio's Server.close and wait_closed, with a deadline):
//
//     co_await weft::net::serve(std::move(listener), echo,
//                               weft::signal_received(SIGTERM), std::chrono::seconds(10));
//
// serves until the awaitable `stop_when` completes, then closes the listener (new clients
// are refused, as are those still in its backlog), gives the connections still running
// `grace` to end, cancels those that have not, waits for them and returns (rethrowing
// stop_when's exception, if it ended in one). A cancelled server, or an accept failure,
// ends as above, without the grace.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/server_connections.hpp>
#include <weft/errors.hpp>
#include <weft/net/resolve.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/task.hpp>
#include <weft/wait.hpp>

namespace weft::net {

template <class Handler>
concept connection_handler =
    std::copy_constructible<Handler> && std::invocable<Handler&, tcp_stream> &&
    std::same_as<std::invoke_result_t<Handler&, tcp_stream>, coro<>>;

template <connection_handler Handler>
coro<> serve(tcp_listener listener, Handler handler) {
    auto state =
        std::make_shared<detail::server_state<Handler>>(std::move(listener), std::move(handler));
    std::exception_ptr failure;
    try {
        co_await detail::accept_connections(state);
    } catch (...) { // cancelled_error, the server's end, or an accept that failed for good
        failure = std::current_exception();
    }
    state->listener.close();
    co_await detail::end_connections(std::move(state->connections));
    std::rethrow_exception(failure);
}

template <connection_handler Handler, awaitable Stop>
coro<> serve(tcp_listener listener, Handler handler, Stop stop_when,
             std::chrono::nanoseconds grace) {
    if (grace < std::chrono::nanoseconds::zero()) {
        throw invalid_argument("weft::net::serve: the grace period is negative (" +
                               std::to_string(grace.count()) + " ns); zero cancels at once");
    }
    auto state =
        std::make_shared<detail::server_state<Handler>>(std::move(listener), std::move(handler));
    const task<> accepting = create_task(detail::accept_connections(state));
    const task<> stop = create_task(detail::await_stop(std::move(stop_when)));
    std::exception_ptr failure;
    try {
        co_await wait(detail::tasks_of(accepting, stop), return_when::first_completed);
    } catch (...) { // cancelled_error
        failure = std::current_exception();
    }
    accepting.cancel();
    stop.cancel();
    co_await wait(detail::tasks_of(accepting, stop));
    if (!failure) {
        failure = detail::failure_of(accepting);
    }
    state->listener.close();
    if (!failure) {
        try {
            co_await wait(state->connections, return_when::all_completed, grace);
        } catch (...) { // cancelled_error
            failure = std::current_exception();
        }
    }
    co_await detail::end_connections(std::move(state->connections));
    if (!failure) {
        failure = detail::failure_of(stop);
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

// Binds `host`:`port` (a numeric address, or a name weft::net::resolve looks up; the first
// address that binds) and serves it until cancelled.
template <connection_handler Handler>
coro<> start_server(Handler handler, std::string host, std::uint16_t port, int backlog = 1024) {
    const std::vector<address> candidates = co_await resolve(std::move(host), port);
    co_await serve(tcp_listener::bind(candidates, backlog), std::move(handler));
}

// Binds `host`:`port` as above and serves it until `stop_when` completes, then shuts down
// gracefully as the serve above does.
template <connection_handler Handler, awaitable Stop>
coro<> start_server(Handler handler, std::string host, std::uint16_t port, Stop stop_when,
                    std::chrono::nanoseconds grace, int backlog = 1024) {
    const std::vector<address> candidates = co_await resolve(std::move(host), port);
    co_await serve(tcp_listener::bind(candidates, backlog), std::move(handler),
                   std::move(stop_when), grace);
}

} // namespace weft::net
