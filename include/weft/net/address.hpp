// weft::net::address: one IPv4 or IPv6 socket address and port, as weft::net::resolve yields
// it and as bind, connect and send_to take it (asyncio's (host, port) tuples, Tokio's
// SocketAddr).
//
//     auto where = weft::net::address::parse("::1", 8080);       // std::nullopt if not numeric
//     std::string text = where->to_string();                     // "[::1]:8080"
//
// A value type: copyable, comparable, holding the kernel's sockaddr (sockaddr_in or
// sockaddr_in6) and its length. A default-constructed address is empty (family() 0).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::net {

class address {
public:
    address() noexcept = default;
    // A copy of a kernel socket address of `length` bytes (at most sizeof(sockaddr_storage)).
    address(const sockaddr* native, socklen_t length) noexcept;

    // `host` as a numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "[::1]") and `port`, or
    // std::nullopt if it is not one (a name: resolve it with weft::net::resolve).
    static std::optional<address> parse(std::string_view host, std::uint16_t port);

    // AF_INET or AF_INET6 (0 when empty).
    int family() const noexcept { return storage_.ss_family; }
    std::uint16_t port() const noexcept;
    // The host part, as "127.0.0.1" or "::1".
    std::string host() const;
    // "127.0.0.1:8080" or "[::1]:8080".
    std::string to_string() const;

    const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t native_length() const noexcept { return length_; }

    friend bool operator==(const address& left, const address& right) noexcept;

private:
    sockaddr_storage storage_{};
    socklen_t length_ = 0;
};

} // namespace weft::net
