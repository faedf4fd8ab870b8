// Every header of weft::net: addresses and name resolution, TCP and Unix domain streams and
// listeners, UDP and Unix domain datagram sockets, the buffered stream reader, and the servers
// that run a task per connection. One line a header.
#pragma once

#include <weft/net/address.hpp>
#include <weft/net/read_chunks.hpp>
#include <weft/net/resolve.hpp>
#include <weft/net/server.hpp>
#include <weft/net/stream_reader.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/net/udp_socket.hpp>
#include <weft/net/unix_datagram_socket.hpp>
#include <weft/net/unix_listener.hpp>
#include <weft/net/unix_stream.hpp>
