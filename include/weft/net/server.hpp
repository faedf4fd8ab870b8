// weft::net::serve, start_server and start_unix_server: a task per connection
// (asyncio.start_server, asyncio.start_unix_server).
//
//     weft::coro<> echo(weft::net::tcp_stream conn) { ... }
//     co_await weft::net::start_server(echo, "0.0.0.0", 8080);   // until cancelled
//
//     auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
//     std::uint16_t port = listener.local_port();                 // to tell clients
//     co_await weft::net::serve(std::move(listener), echo);
//
// serve takes any listener whose accept() returns a coro of a connection (tcp_listener gives
// tcp_stream, unix_listener gives unix_stream); the handler takes that connection. Each
// accepted connection is passed to a copy of `handler(connection)`, which returns a
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
// are refused, as are those still in its backlog; a Unix listener removes its socket file),
// gives the connections still running `grace` to end, cancels those that have not, waits for
// them and returns (rethrowing stop_when's exception, if it ended in one). A negative grace
// throws weft::invalid_argument. A cancelled server, or an accept failure, ends as above,
// without the grace.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/server_connections.hpp>
#include <weft/net/resolve.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/unix_listener.hpp>

namespace weft::net {

// A listener serve takes: accept() gives a coro of a connection, close() stops listening.
template <class Listener>
concept stream_listener = std::movable<Listener> && requires(Listener& listening) {
    typename decltype(listening.accept())::value_type;
    listening.close();
};

// The connection type a listener's accept gives.
template <stream_listener Listener>
using connection_of = typename decltype(std::declval<Listener&>().accept())::value_type;

template <class Handler, class Connection>
concept connection_handler =
    std::copy_constructible<Handler> && std::invocable<Handler&, Connection> &&
    std::same_as<std::invoke_result_t<Handler&, Connection>, coro<>>;

template <stream_listener Listener, connection_handler<connection_of<Listener>> Handler>
coro<> serve(Listener listener, Handler handler) {
    return detail::serve_until_cancelled(std::move(listener), std::move(handler));
}

template <stream_listener Listener, connection_handler<connection_of<Listener>> Handler,
          awaitable Stop>
coro<> serve(Listener listener, Handler handler, Stop stop_when, std::chrono::nanoseconds grace) {
    return detail::serve_gracefully(std::move(listener), std::move(handler), std::move(stop_when),
                                    grace);
}

// Binds `host`:`port` (a numeric address, or a name weft::net::resolve looks up; the first
// address that binds) and serves it until cancelled.
template <connection_handler<tcp_stream> Handler>
coro<> start_server(Handler handler, std::string host, std::uint16_t port, int backlog = 1024) {
    const std::vector<address> candidates = co_await resolve(std::move(host), port);
    co_await serve(tcp_listener::bind(candidates, backlog), std::move(handler));
}

// Binds `host`:`port` as above and serves it until `stop_when` completes, then shuts down
// gracefully as the serve above does.
template <connection_handler<tcp_stream> Handler, awaitable Stop>
coro<> start_server(Handler handler, std::string host, std::uint16_t port, Stop stop_when,
                    std::chrono::nanoseconds grace, int backlog = 1024) {
    const std::vector<address> candidates = co_await resolve(std::move(host), port);
    co_await serve(tcp_listener::bind(candidates, backlog), std::move(handler),
                   std::move(stop_when), grace);
}

// Listens on the Unix socket `path` (a filesystem path, or "@name" for an abstract one; see
// unix_listener::bind) and serves it until cancelled, or until `stop_when` completes and
// gracefully as above. Bad paths throw as bind does, when the result is awaited.
template <connection_handler<unix_stream> Handler>
coro<> start_unix_server(Handler handler, std::string path, int backlog = 1024) {
    co_await serve(unix_listener::bind(path, backlog), std::move(handler));
}

template <connection_handler<unix_stream> Handler, awaitable Stop>
coro<> start_unix_server(Handler handler, std::string path, Stop stop_when,
                         std::chrono::nanoseconds grace, int backlog = 1024) {
    co_await serve(unix_listener::bind(path, backlog), std::move(handler), std::move(stop_when),
                   grace);
}

} // namespace weft::net
