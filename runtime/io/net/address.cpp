// weft::net::address (include/weft/net/address.hpp): the kernel's socket address, read and
// written through socket_ops' endpoint, which holds the same bytes.
#include <weft/net/address.hpp>

#include <algorithm>
#include <cstring>

#include "io/net/socket_ops.hpp"

namespace weft::net {

namespace ops = detail::net;

address::address(const sockaddr* native, socklen_t length) noexcept
    : length_(std::min<socklen_t>(length, sizeof storage_)) {
    std::memcpy(&storage_, native, length_);
}

std::optional<address> address::parse(std::string_view host, std::uint16_t port) {
    if (std::optional<ops::endpoint> numeric = ops::parse_numeric(host, port)) {
        return ops::address_of(*numeric);
    }
    return std::nullopt;
}

std::uint16_t address::port() const noexcept {
    return ops::endpoint_of(*this).port();
}

std::string address::host() const {
    return ops::endpoint_of(*this).host();
}

std::string address::to_string() const {
    return ops::endpoint_of(*this).describe();
}

bool operator==(const address& left, const address& right) noexcept {
    return left.length_ == right.length_ &&
           std::memcmp(&left.storage_, &right.storage_, left.length_) == 0;
}

} // namespace weft::net
