// weft::net::resolve: a host name and port to the addresses they stand for (asyncio's
// loop.getaddrinfo, Tokio's lookup_host).
//
//     std::vector<weft::net::address> found = co_await weft::net::resolve("localhost", 8080);
//
// A numeric IPv4 or IPv6 address is parsed at once, without a lookup. A name is looked up
// with getaddrinfo on the runtime's blocking pool (weft::to_thread), never on a worker; the
// addresses come in getaddrinfo's order (the order to try them in), each once. Cancelling
// the awaiting task ends the await at once with cancelled_error: a lookup already running
// finishes on its pool thread and its result is dropped there. A failed lookup throws
// resolve_error. Must be awaited inside a runtime.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include <weft/coro.hpp>
#include <weft/net/address.hpp>

namespace weft::net {

// The lookup failed. code() holds getaddrinfo's EAI_ code in resolver_category() (whose
// messages are gai_strerror's), or the errno in std::generic_category() for EAI_SYSTEM;
// what() names the host: "weft::net::resolve no.such.host.invalid: Name or service not known".
class resolve_error : public std::system_error {
public:
    resolve_error(std::error_code code, const std::string& host);
    // The name that did not resolve.
    const std::string& host() const noexcept { return host_; }

private:
    std::string host_;
};

// The category of getaddrinfo's EAI_ codes.
const std::error_category& resolver_category() noexcept;

// Every address `host` (a name or a numeric address) and `port` stand for; never empty.
coro<std::vector<address>> resolve(std::string host, std::uint16_t port);

} // namespace weft::net
