// The owner of one socket attached to a runtime's reactor, and the address it is known by
// (a listener's own, a stream's peer), which its errors name. tcp_listener and tcp_stream
// each hold one; every socket weft attaches is held by one from the moment it is attached.
// Closing it, or destroying it, detaches the socket from the reactor and closes the
// descriptor: on any thread, also after the runtime ended (then only the descriptor is
// closed). Move-only; empty once moved from or closed, and an empty one closes nothing.
// Closing keeps the address. What needs the reactor is out of line in runtime/io/net/.
#pragma once

#include <string>
#include <utility>

namespace weft::detail {

struct io_source;

class attached_socket {
public:
    attached_socket() noexcept = default;
    // Attaches `fd` to the running runtime's reactor; closes `fd` and throws if that fails
    // (std::system_error, or weft::runtime_error outside a runtime), naming `operation`.
    attached_socket(int fd, const char* operation);
    attached_socket(attached_socket&& other) noexcept
        : source_(std::exchange(other.source_, nullptr)), address_(std::move(other.address_)) {}
    attached_socket& operator=(attached_socket&& other) noexcept {
        if (this != &other) {
            close();
            source_ = std::exchange(other.source_, nullptr);
            address_ = std::move(other.address_);
        }
        return *this;
    }
    ~attached_socket() { close(); }

    bool is_open() const noexcept { return source_ != nullptr; }
    // The attached source, or nullptr when empty.
    io_source* get() const noexcept { return source_; }
    // The descriptor, or -1 when empty.
    int fd() const noexcept;
    // As "127.0.0.1:8080" or "[::1]:8080".
    const std::string& address() const noexcept { return address_; }
    void set_address(std::string address) noexcept { address_ = std::move(address); }
    void close() noexcept;

private:
    io_source* source_ = nullptr;
    std::string address_;
};

} // namespace weft::detail
