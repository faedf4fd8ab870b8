// gather_awaiter: what weft::gather returns, for every form of the call. It joins its
// children with a gather_join (children + 1 arrivals; the last resumes the awaiting
// coroutine), so it resumes only once every child has ended. While it waits it is the
// awaiting task's cancel target and passes a cancellation on to every child. The children
// are kept by a child set, which is all that differs between the forms:
//   gather_tuple   several arguments of any kinds (gather_child.hpp), results in a tuple;
//   gather_range   a vector or an array of coro<T>, results in a vector or an array.
// A child set answers size, prepare (point each child at the join; return the coroutine
// children to fork), cancel, exception_of (the exception of the child the join names as the
// first to fail), outcomes and values (results taken out once every child has ended).
#pragma once

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/detail/await_once.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/gather_child.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft::detail {

template <bool ReturnExceptions, class Children>
class [[nodiscard]] gather_awaiter : public cancel_target {
public:
    // The children are made in place: a moved-from set would be one more pass over them
    // (a null test per child) as it is destroyed.
    template <class... Args>
    explicit gather_awaiter(std::in_place_t, Args&&... args)
        : children_(std::forward<Args>(args)...), join_(children_.size()) {}
    // Movable until awaited, so a gather can be handed to create_task.
    gather_awaiter(gather_awaiter&& other) noexcept
        : children_(std::move(other.children_)), join_(children_.size()) {}

    bool await_ready() {
        once_.claim("weft::gather");
        return children_.size() == 0;
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        enter_join(join_, "weft::gather");
        join_.parent = awaiting;
        join_.parent_strand = strand_of(awaiting);
        auto forks = children_.prepare(join_);
        // Published once every child is prepared and before any can end the gather (the
        // join waits for this coroutine's own arrival in launch_children).
        strand_ = strand_of(awaiting);
        interrupt = &on_cancel;
        if (strand_ != nullptr && !publish(*strand_)) {
            children_.cancel(); // a cancellation was pending: the children start cancelled
        }
        return transfer_to(awaiting, launch_children(join_, forks.data(), forks.size()));
    }

    auto await_resume() {
        resume_in(strand_);
        if (strand_ != nullptr && leave(*strand_)) {
            throw_delivered_cancellation(); // every child has ended
        }
        if constexpr (ReturnExceptions) {
            return children_.outcomes();
        } else {
            const void* failed = join_.failed_child();
            if (failed != nullptr) {
                std::rethrow_exception(children_.exception_of(failed));
            }
            return children_.values();
        }
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        static_cast<gather_awaiter&>(target).children_.cancel();
        return {interruption::outcome::forwarded};
    }

    // This gather as the awaiting strand's cancel target: in its forwarding slot if the
    // strand is rooted in a gather child (every level of a fork-join tree but the top) and
    // the gather lies within the slot's reach of the word (in the root's own frame, always).
    bool publish(strand_word& strand) noexcept {
        const std::int32_t distance = forwarding_distance(strand, *this);
        in_slot_ = distance != 0 && promise_base::publishes_in_slot(strand);
        return in_slot_ ? publish_forwarding_target(strand, distance)
                        : publish_target(strand, *this);
    }
    bool leave(strand_word& strand) noexcept {
        return in_slot_ ? leave_forwarding_target(strand) : leave_target(strand, *this);
    }

    Children children_;
    gather_join join_;
    strand_word* strand_ = nullptr;
    await_once once_;
    bool in_slot_ = false;
};

// The coroutine children of a gather_tuple, gathered on the stack of await_suspend.
template <std::size_t N>
struct fork_array {
    std::array<std::coroutine_handle<>, N> handles;
    std::size_t count = 0;

    std::coroutine_handle<>* data() noexcept { return handles.data(); }
    std::size_t size() const noexcept { return count; }
};

// The children of gather(a, b, ...): one gather child per argument, in a tuple.
template <class... Children>
class gather_tuple {
public:
    explicit gather_tuple(Children&&... children) : children_(std::move(children)...) {}

    static constexpr std::size_t size() noexcept { return sizeof...(Children); }

    fork_array<sizeof...(Children)> prepare(gather_join& join) noexcept {
        fork_array<sizeof...(Children)> forks;
        std::apply([&](Children&... child) { ((add_fork(forks, child.prepare(join))), ...); },
                   children_);
        return forks;
    }

    void cancel() noexcept {
        std::apply([](Children&... child) { (child.cancel(), ...); }, children_);
    }

    std::exception_ptr exception_of(const void* failed) noexcept {
        std::exception_ptr error;
        std::apply(
            [&](Children&... child) {
                ((child.is(failed) ? void(error = child.result().exception()) : void()), ...);
            },
            children_);
        return error;
    }

    auto outcomes() {
        return std::apply([](Children&... child) { return std::tuple{child.take_outcome()...}; },
                          children_);
    }
    auto values() {
        return std::apply(
            [](Children&... child) {
                return std::tuple<stored_t<typename Children::value_type>...>{take_value(child)...};
            },
            children_);
    }

private:
    static void add_fork(fork_array<sizeof...(Children)>& forks,
                         std::coroutine_handle<> child) noexcept {
        if (child) {
            forks.handles[forks.count++] = child;
        }
    }

    template <class Child>
    static stored_t<typename Child::value_type> take_value(Child& child) {
        if constexpr (std::is_void_v<typename Child::value_type>) {
            return {};
        } else {
            return child.take_outcome().value();
        }
    }

    std::tuple<Children...> children_;
};

// Where a range gather keeps its children's handles. Both are contiguous, so the handles
// are the fork list and launching needs no other storage.
//   fixed_handles<N>  gather(std::array<coro<T>, N>): in the awaiter, no allocation;
//   small_handles     gather(std::vector<coro<T>>): inline up to inline_capacity children
//                     (a fork-join node's usual fan-out), on the heap beyond.
template <std::size_t N>
class fixed_handles {
public:
    static constexpr bool fixed = true;
    explicit fixed_handles(std::size_t) noexcept {}
    fixed_handles(fixed_handles&& other) noexcept : handles_(std::exchange(other.handles_, {})) {}

    std::coroutine_handle<>* data() noexcept { return handles_.data(); }
    static constexpr std::size_t size() noexcept { return N; }
    void clear() noexcept { handles_ = {}; }

private:
    std::array<std::coroutine_handle<>, N> handles_{};
};

class small_handles {
public:
    static constexpr bool fixed = false;
    static constexpr std::size_t inline_capacity = 16;

    explicit small_handles(std::size_t count)
        : heap_(count > inline_capacity ? std::make_unique<std::coroutine_handle<>[]>(count)
                                        : nullptr),
          size_(count) {}
    small_handles(small_handles&& other) noexcept
        : inline_(other.inline_), heap_(std::move(other.heap_)),
          size_(std::exchange(other.size_, 0)) {}

    std::coroutine_handle<>* data() noexcept { return heap_ ? heap_.get() : inline_.data(); }
    std::size_t size() const noexcept { return size_; }
    void clear() noexcept {
        heap_.reset();
        size_ = 0;
    }

private:
    std::array<std::coroutine_handle<>, inline_capacity> inline_{};
    std::unique_ptr<std::coroutine_handle<>[]> heap_;
    std::size_t size_;
};

// The children of gather over a range of coro<T> (a vector or an array): the coroutine
// frames themselves, every one forked. Results come out in a std::vector, or in a
// std::array for the array form.
template <class T, class Handles>
class gather_range {
public:
    template <class Range>
    explicit gather_range(Range&& bodies) : handles_(bodies.size()) {
        if (bodies.size() > std::numeric_limits<std::uint32_t>::max()) {
            throw runtime_error("weft::gather: more than 2^32 - 1 coroutines in one gather");
        }
        for (coro<T>& body : bodies) {
            if (!coro_access::peek(body)) {
                throw invalid_state_error("weft::gather: a coro in the range is empty (moved "
                                          "from or already awaited)");
            }
        }
        std::size_t index = 0;
        for (coro<T>& body : bodies) {
            handles_.data()[index++] = coro_access::release(body);
        }
        if constexpr (!Handles::fixed) {
            // The emptied coros would otherwise live, as gather's parameter, until the
            // gather ends: a word per child.
            std::remove_cvref_t<Range>().swap(bodies);
        }
    }
    gather_range(gather_range&& other) noexcept = default;
    ~gather_range() { destroy_children(); }

    std::size_t size() const noexcept { return handles_.size(); }

    std::span<std::coroutine_handle<>> prepare(gather_join& join) noexcept {
        for (std::size_t index = 0; index < size(); ++index) {
            child(index).promise().join_gather(join);
        }
        return {handles_.data(), size()};
    }

    void cancel() noexcept {
        for (std::size_t index = 0; index < size(); ++index) {
            request_child_cancel(*child(index).promise().strand());
        }
    }

    std::exception_ptr exception_of(const void* failed) noexcept {
        // Every child is a coro<T>, whose promise the join recorded.
        const auto* promise = static_cast<const promise_base*>(failed);
        return static_cast<const coro_promise<T>*>(promise)->result.exception();
    }

    auto outcomes() {
        return collect<outcome<T>>(
            [this](std::size_t index) { return std::move(child(index).promise().result); });
    }
    auto values() {
        if constexpr (std::is_void_v<T>) {
            return collect<std::monostate>([](std::size_t) { return std::monostate{}; });
        } else {
            return collect<stored_t<T>>([this](std::size_t index) -> stored_t<T> {
                return std::move(child(index).promise().result).value();
            });
        }
    }

private:
    coro_handle<T> child(std::size_t index) noexcept {
        return coro_handle<T>::from_address(handles_.data()[index].address());
    }

    template <class Result, class Take>
    auto collect(Take take) {
        if constexpr (Handles::fixed) {
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return std::array<Result, sizeof...(I)>{take(I)...};
            }
            (std::make_index_sequence<Handles::size()>{});
        } else {
            std::vector<Result> results;
            results.reserve(size());
            for (std::size_t index = 0; index < size(); ++index) {
                results.push_back(take(index));
            }
            return results;
        }
    }

    void destroy_children() noexcept {
        for (std::size_t index = 0; index < size(); ++index) {
            if (handles_.data()[index]) {
                destroy_frame(child(index));
            }
        }
        handles_.clear();
    }

    Handles handles_;
};

// gather(awaitables...) and gather(return_exceptions, awaitables...).
template <bool ReturnExceptions, class... As>
auto gather_tuple_of(As&&... awaitables) {
    using children = gather_tuple<gather_child_t<As>...>;
    return gather_awaiter<ReturnExceptions, children>(
        std::in_place, make_gather_child(std::forward<As>(awaitables))...);
}

// gather(bodies) and gather(return_exceptions, bodies), for a vector or an array of coro<T>.
template <bool ReturnExceptions, class T>
auto gather_vector_of(std::vector<coro<T>>&& bodies) {
    using children = gather_range<T, small_handles>;
    return gather_awaiter<ReturnExceptions, children>(std::in_place, bodies);
}
template <bool ReturnExceptions, class T, std::size_t N>
auto gather_array_of(std::array<coro<T>, N>& bodies) {
    using children = gather_range<T, fixed_handles<N>>;
    return gather_awaiter<ReturnExceptions, children>(std::in_place, bodies);
}

} // namespace weft::detail
