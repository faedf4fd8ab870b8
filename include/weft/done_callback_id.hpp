// weft::done_callback_id: names a callback that task::add_done_callback or
// future::add_done_callback added, for remove_done_callback to take it back. asyncio compares
// the callback functions themselves; C++ callables are not comparable, so the adding call
// hands back this small value instead. Ids are unique within the process; a default one
// names no callback.
#pragma once

#include <cstdint>

namespace weft {

namespace detail {
struct done_callback_ids;
} // namespace detail

class done_callback_id {
public:
    // Names no callback: removing it removes nothing.
    done_callback_id() noexcept = default;

    friend bool operator==(done_callback_id, done_callback_id) noexcept = default;

private:
    friend struct detail::done_callback_ids;

    explicit done_callback_id(std::uint64_t value) noexcept : value_(value) {}

    std::uint64_t value_ = 0;
};

} // namespace weft
