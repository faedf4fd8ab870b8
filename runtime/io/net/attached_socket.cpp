// The parts of weft::detail::attached_socket (include/weft/detail/attached_socket.hpp) that
// reach the reactor: attaching a new socket, and detaching and closing it.
#include <weft/detail/attached_socket.hpp>

#include <unistd.h>

#include "io/io_source.hpp"
#include "io/reactor.hpp"

namespace weft::detail {

attached_socket::attached_socket(int fd, const char* operation) {
    try {
        source_ = require_running_reactor(operation).attach(fd, operation);
    } catch (...) {
        ::close(fd);
        throw;
    }
}

int attached_socket::fd() const noexcept {
    return source_ != nullptr ? source_->fd : -1;
}

void attached_socket::close() noexcept {
    if (source_ != nullptr) {
        const int fd = source_->fd;
        reactor::release(std::exchange(source_, nullptr));
        ::close(fd);
    }
}

} // namespace weft::detail
