// weft::signal_listener and weft::signal_received: a wait on one signal's delivery count
// in the running runtime's signal source (io/signal_source.hpp).
#include <weft/errors.hpp>
#include <weft/signal.hpp>

#include <string>
#include <utility>

#include "io/signal_source.hpp"

namespace weft {

namespace {

detail::io_readiness& watched_deliveries(int signo, const char* what) {
    detail::check_signal_number(signo, what);
    detail::io_readiness* deliveries =
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
    : signo_(signo), deliveries_(&watched_deliveries(signo, what)),
      consumed_(deliveries_->observe()) {}

coro<> signal_listener::next() {
    co_await detail::readiness_awaiter(*deliveries_, consumed_, "weft::signal_listener::next");
    consumed_ = deliveries_->observe();
}

coro<> signal_received(int signo) {
    return await_next(signal_listener(signo, "weft::signal_received"));
}

} // namespace weft
