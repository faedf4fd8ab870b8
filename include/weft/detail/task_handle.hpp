// task_handle: one counted reference to a task known only by its header, what weft::any_task
// is made of. A finished task's waiter list keeps the check of its result type, so the
// last reference can report an exception nobody retrieved without knowing that type.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <utility>

#include <weft/detail/cancel_record.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/task_name.hpp>
#include <weft/detail/task_ref.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

class task_handle {
public:
    task_handle() noexcept = default;
    // Takes over a reference already counted for it.
    explicit task_handle(frame_header* counted) noexcept : header_(counted) {}
    task_handle(const task_handle& other) noexcept : header_(other.header_) {
        if (header_ != nullptr) {
            header_->add_reference();
        }
    }
    task_handle(task_handle&& other) noexcept : header_(std::exchange(other.header_, nullptr)) {}
    task_handle& operator=(task_handle other) noexcept {
        std::swap(header_, other.header_);
        return *this;
    }
    ~task_handle() {
        if (header_ != nullptr) {
            release_task(header_, nullptr);
        }
    }

    frame_header* header() const noexcept { return header_; }
    bool finished() const noexcept { return header_ != nullptr && header_->waiters.done(); }
    bool cancel_with(cancel_message message) const noexcept {
        return header_ != nullptr && cancel_through_handle(*header_, std::move(message));
    }
    std::size_t cancel_requests() const noexcept {
        return header_ != nullptr ? detail::cancel_requests(*header_) : 0;
    }
    std::size_t withdraw_cancel_request() const noexcept {
        return header_ != nullptr ? uncancel_task(*header_) : 0;
    }
    std::string task_name() const { return task_name_of(header_); }
    void rename(std::string name) const { rename_task(header_, std::move(name)); }

private:
    frame_header* header_ = nullptr;
};

} // namespace weft::detail
