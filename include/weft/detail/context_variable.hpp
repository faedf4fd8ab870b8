// The untyped half of weft::context_var: a variable's identity, and its reads and writes of
// the current context (context_store.hpp), with values held as shared_ptr<const void>.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace weft::detail {

// One set() of a variable, as its token keeps it for reset(): whose context it changed and
// the value it replaced (null: none). A moved-from or used change has variable 0.
struct context_change {
    context_change(std::uint64_t variable, const void* owner,
                   std::shared_ptr<const void> previous) noexcept
        : variable(variable), owner(owner), previous(std::move(previous)) {}
    context_change(context_change&& other) noexcept
        : variable(std::exchange(other.variable, 0)), owner(other.owner),
          previous(std::move(other.previous)) {}
    context_change& operator=(context_change&& other) noexcept {
        variable = std::exchange(other.variable, 0);
        owner = other.owner;
        previous = std::move(other.previous);
        return *this;
    }

    std::uint64_t variable;
    const void* owner;
    std::shared_ptr<const void> previous;
};

class context_variable {
public:
    explicit context_variable(std::string name);

    const std::string& name() const noexcept { return name_; }

    // The value in the current context, or null.
    std::shared_ptr<const void> find() const;
    context_change set(std::shared_ptr<const void> value) const;
    void reset(context_change change) const;
    [[noreturn]] void throw_unset() const;

private:
    std::string name_;
    std::uint64_t id_;
};

} // namespace weft::detail
