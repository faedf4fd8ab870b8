// A connected pair of weft::net::tcp_stream over 127.0.0.1, for the tests of streams.
#pragma once

#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/task.hpp>

#include <utility>

namespace weft::testing {

// {client side, server side}.
inline weft::coro<std::pair<weft::net::tcp_stream, weft::net::tcp_stream>> connected_pair() {
    auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
    weft::task<weft::net::tcp_stream> client =
        weft::create_task(weft::net::tcp_stream::connect("127.0.0.1", listener.local_port()));
    weft::net::tcp_stream server_side = co_await listener.accept();
    weft::net::tcp_stream client_side = co_await std::move(client);
    co_return std::pair{std::move(client_side), std::move(server_side)};
}

} // namespace weft::testing
