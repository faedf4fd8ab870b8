// Where an exception that no one retrieved goes (frame_header.cpp): to the exception
// handler of the runtime running on this thread (run_options::exception_handler), if it has
// one. The scheduler, which owns the runtime's options, defines the look-up
// (scheduler/layer_hooks.cpp), so the task layer needs no scheduler header.
#pragma once

#include <exception>
#include <functional>

namespace weft::detail {

using exception_handler = std::function<void(std::exception_ptr)>;

// The running runtime's exception handler, or nullptr off a runtime or if it has none.
[[gnu::noinline]] const exception_handler* running_exception_handler() noexcept;

} // namespace weft::detail
