// weft::net::resolve (include/weft/net/resolve.hpp): a numeric address is parsed on the
// caller's worker; a name goes to getaddrinfo on the blocking pool through weft::to_thread,
// whose await the caller may leave at once (the lookup then ends on its pool thread).
#include <weft/net/resolve.hpp>

#include <netdb.h>

#include <algorithm>
#include <cerrno>

#include <weft/to_thread.hpp>

#include "io/net/socket_ops.hpp"

namespace weft::net {
namespace {

class resolver_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "weft.resolver"; }
    std::string message(int code) const override { return gai_strerror(code); }
};

// The blocking lookup, on a pool thread.
std::vector<address> look_up(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    // One socket type, so that each address comes once (the addresses of TCP and UDP are
    // the same).
    hints.ai_socktype = SOCK_STREAM;
    // No AI_ADDRCONFIG: glibc does not count loopback as configured, so a machine with
    // only a loopback interface could not resolve "localhost". An address of a family the
    // machine lacks fails to connect, and connect tries the next.
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int error = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); error != 0) {
        if (error == EAI_SYSTEM) {
            throw resolve_error(std::error_code(errno, std::generic_category()), host);
        }
        throw resolve_error(std::error_code(error, resolver_category()), host);
    }
    std::vector<address> addresses;
    for (const addrinfo* each = found; each != nullptr; each = each->ai_next) {
        address one(each->ai_addr, each->ai_addrlen);
        if (std::find(addresses.begin(), addresses.end(), one) == addresses.end()) {
            addresses.push_back(one);
        }
    }
    freeaddrinfo(found);
    if (addresses.empty()) {
        throw resolve_error(std::error_code(EAI_NONAME, resolver_category()), host);
    }
    return addresses;
}

} // namespace

resolve_error::resolve_error(std::error_code code, const std::string& host)
    : std::system_error(code, "weft::net::resolve " + host), host_(host) {}

const std::error_category& resolver_category() noexcept {
    static const resolver_error_category category;
    return category;
}

coro<std::vector<address>> resolve(std::string host, std::uint16_t port) {
    if (std::optional<address> numeric = address::parse(host, port)) {
        co_return std::vector<address>{*numeric};
    }
    co_return co_await to_thread(look_up, std::move(host), port);
}

} // namespace weft::net
