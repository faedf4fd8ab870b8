// weft::runner: one runtime that runs several main coroutines in turn (asyncio.Runner),
// keeping its workers between them. weft::run is a runner used for one main.
//
//     weft::runner r(weft::run_options{.workers = 2});
//     const config cfg = r.run(load_config());
//     r.run(serve(cfg));
//     r.close(); // or let the destructor close it
//
// Each run(main) makes the calling thread worker 0 until main has ended and returns main's
// value or rethrows its exception. Tasks main left pending are not cancelled: the other
// workers keep running them between runs (worker 0 runs nothing then, so with one worker,
// as in asyncio, they wait for the next run). close() does what the end of weft::run does:
// cancels the pending tasks and waits for them up to the shutdown grace, closes the
// generators still suspended, and joins the workers and the blocking pool's threads.
// The watched signals (run_options::signals) are blocked in the thread that makes the
// runner from construction to close() there, as weft::run does for its call; run() or
// close() on another thread blocks them there while it runs. Virtual time runs on across runs:
// it stands still between them, since worker 0 counts as busy then.
#pragma once

#include <atomic>
#include <coroutine>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/detail/run_main.hpp>
#include <weft/run.hpp>

namespace weft {

namespace detail {
class runtime;
} // namespace detail

class runner {
public:
    // Starts the runtime: workers 1..n-1 start now and wait for work. Throws
    // weft::invalid_argument for options out of range, as weft::run does.
    explicit runner(run_options options = {});
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;
    // close(). On a thread running a weft runtime, or during a run() on another thread,
    // close() throws, and a destructor that cannot throw ends the program.
    ~runner();

    // Runs `main` to completion on this runtime and returns its value or rethrows its
    // exception. Throws weft::runtime_error, running nothing, from a thread that is running
    // a weft runtime (this one included), while another thread is in run() or close(), and
    // after close(); weft::invalid_state_error for an empty coro.
    template <class T>
    T run(coro<T> main);

    // Shuts the runtime down as weft::run does when main ends. Idempotent. Throws
    // weft::runtime_error from a thread that is running a weft runtime, or while another
    // thread is in run().
    void close();

private:
    // `name` heads the reports and error messages: weft::run's own runner says weft::run.
    runner(const run_options& options, const char* name);
    void run_frame(detail::frame_header* main, std::coroutine_handle<> handle);
    // The signals a run() or close() on this thread blocks for its call; null on the maker.
    const std::vector<int>* signals_to_block_here() const noexcept;
    friend void detail::run_main(detail::frame_header* main, std::coroutine_handle<> handle,
                                 const run_options& options);

    const char* const name_;
    const std::thread::id maker_;
    // Null once closed.
    std::unique_ptr<detail::runtime> runtime_;
    // Set while a thread is in run() or close().
    std::atomic<bool> busy_{false};
};

template <class T>
T runner::run(coro<T> main) {
    detail::main_frame<T> frame = detail::make_main_frame(std::move(main), "weft::runner::run");
    run_frame(frame.header, frame.handle);
    return detail::task_access::take_result(frame.owner);
}

} // namespace weft
