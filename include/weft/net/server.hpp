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
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/errors.hpp>
#include <weft/net/resolve.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/sleep.hpp>
#include <weft/task.hpp>
#include <weft/wait.hpp>

namespace weft::net {

template <class Handler>
concept connection_handler =
    std::copy_constructible<Handler> && std::invocable<Handler&, tcp_stream> &&
    std::same_as<std::invoke_result_t<Handler&, tcp_stream>, coro<>>;

namespace detail {
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
} // namespace detail

template <connection_handler Handler>
coro<> serve(tcp_listener listener, Handler handler) {
    std::vector<task<>> connections;
    std::size_t next_sweep = 64;
    std::exception_ptr failure;
    for (;;) {
        tcp_stream accepted;
        bool pause = false;
        try {
            accepted = co_await listener.accept();
        } catch (const std::system_error& error) {
            if (!detail::accept_may_recover(error)) {
                failure = std::current_exception();
                break;
            }
            pause = true;
        } catch (...) { // cancelled_error: the server's end
            failure = std::current_exception();
            break;
        }
        if (pause) {
            co_await sleep(std::chrono::milliseconds(10));
            continue;
        }
        connections.push_back(create_task(detail::handle_connection(handler, std::move(accepted))));
        if (connections.size() >= next_sweep) { // forget the connections that ended
            std::erase_if(connections, [](const task<>& each) { return each.done(); });
            next_sweep = std::max<std::size_t>(64, connections.size() * 2);
        }
    }
    listener.close();
    for (const task<>& each : connections) {
        each.cancel();
    }
    // A handler's own failure is reported as never retrieved, as if the server had never
    // held its task: here for the tasks still held (cancel() retrieves a finished task's
    // exception), and when its handle goes for one forgotten earlier.
    const wait_result<void> ended = co_await wait(std::move(connections));
    for (const task<>& each : ended.done) {
        const std::exception_ptr error = each.exception();
        if (error && !weft::detail::is_cancellation(error)) {
            weft::detail::report_unretrieved(error, weft::detail::unretrieved_source::task);
        }
    }
    std::rethrow_exception(failure);
}

// Binds `host`:`port` (a numeric address, or a name weft::net::resolve looks up; the first
// address that binds) and serves it until cancelled.
template <connection_handler Handler>
coro<> start_server(Handler handler, std::string host, std::uint16_t port, int backlog = 1024) {
    const std::vector<address> candidates = co_await resolve(std::move(host), port);
    co_await serve(tcp_listener::bind(candidates, backlog), std::move(handler));
}

} // namespace weft::net
