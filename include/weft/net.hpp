// Every header of weft::net: TCP streams and listeners, the buffered stream reader, and the
// servers that run a task per connection. One line a header.
#pragma once

#include <weft/net/server.hpp>
#include <weft/net/stream_reader.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
