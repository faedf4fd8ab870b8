// weft::signal_listener and weft::signal_received: a wait on one signal's delivery count
// in the running runtime's signal source (io/signal_source.hpp).
#include <weft/errors.hpp>
#include <weft/signal.hpp>

#include <string>
#include <utility>

#include "io/signal_source.hpp"

namespace weft {

namespace {

detail::signal_deliveries& watched_deliveries(int signo, const char* what) {
    detail::check_signal_number(signo, what);
    detail::signal_deliveries* deliveries =
        detail::require_running_signal_source(what).deliveries(signo);
    if (deliveries == nullptr) {
        throw signal_error(std::string(what) + ": signal " + std::to_string(signo) +
                           " is not watched by this runtime; list it in run_options::signals, "
                           "so that run blocks it in every thread before the workers start");
    }
    return *deliveries;
}

coro<> await_next(signal_listener listener) {
    co_await listener.next();
}

} // namespace

signal_listener::signal_listener(int signo) : signal_listener(signo, "weft::signal_listener") {}

signal_listener::signal_listener(int signo, const char* what)
    : signo_(signo), deliveries_(&watched_deliveries(signo, what)) {
    // release: pairs with the driver's acquire load, so a SIGINT sent after this line finds
    // the listener counted and is not taken for an interrupt.
    deliveries_->listeners.fetch_add(1, std::memory_order_release);
    consumed_ = deliveries_->readiness.observe();
}

signal_listener::signal_listener(signal_listener&& other) noexcept
    : signo_(other.signo_), deliveries_(std::exchange(other.deliveries_, nullptr)),
      consumed_(other.consumed_) {}

signal_listener& signal_listener::operator=(signal_listener&& other) noexcept {
    // other's destructor ends what this listener counted.
    std::swap(signo_, other.signo_);
    std::swap(deliveries_, other.deliveries_);
    std::swap(consumed_, other.consumed_);
    return *this;
}

signal_listener::~signal_listener() {
    if (deliveries_ != nullptr) {
        // release: as the increment, so a SIGINT sent after the listener went is read as
        // an interrupt again.
        deliveries_->listeners.fetch_sub(1, std::memory_order_release);
    }
}

coro<> signal_listener::next() {
    co_await detail::readiness_awaiter(deliveries_->readiness, consumed_,
                                       "weft::signal_listener::next");
    consumed_ = deliveries_->readiness.observe();
}

coro<> signal_received(int signo) {
    return await_next(signal_listener(signo, "weft::signal_received"));
}

} // namespace weft
