// The owner of one socket attached to a runtime's reactor. Closing it, or destroying its
// owner, detaches the socket from the reactor and closes the descriptor (close_socket in
// socket_ops.hpp: any thread, also after the runtime ended). Move-only; empty once moved
// from, released or closed, and an empty one closes nothing. Every socket weft attaches
// is held by one of these until a tcp_listener or tcp_stream takes it over.
#pragma once

#include <utility>

#include "io/net/socket_ops.hpp"

namespace weft::detail::net {

class attached_socket {
public:
    attached_socket() noexcept = default;
    // Takes over a socket already attached (or nothing, for nullptr).
    explicit attached_socket(io_source* adopted) noexcept : source_(adopted) {}
    // Attaches `fd` to the running runtime's reactor; closes `fd` and throws if that fails
    // (attach_socket, naming `operation`).
    attached_socket(int fd, const char* operation) : source_(attach_socket(fd, operation)) {}
    attached_socket(attached_socket&& other) noexcept : source_(other.release()) {}
    attached_socket& operator=(attached_socket&& other) noexcept {
        if (this != &other) {
            close();
            source_ = other.release();
        }
        return *this;
    }
    ~attached_socket() { close(); }

    io_source* get() const noexcept { return source_; }
    // Hands the socket over: from now on the caller closes it.
    io_source* release() noexcept { return std::exchange(source_, nullptr); }
    void close() noexcept {
        if (source_ != nullptr) {
            close_socket(release());
        }
    }

private:
    io_source* source_ = nullptr;
};

} // namespace weft::detail::net
