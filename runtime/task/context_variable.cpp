// The untyped half of weft::context_var; see include/weft/detail/context_variable.hpp. A
// context is a short list: a read scans it, a set copies it with one entry changed.
#include <weft/detail/context_store.hpp>
#include <weft/detail/context_variable.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include <weft/errors.hpp>

namespace weft::detail {
namespace {

// The id of the last variable made; ids start at 1, so 0 marks a used token.
std::atomic<std::uint64_t> last_variable{0};

const context_value* find_in(const context_ptr& values, std::uint64_t variable) noexcept {
    if (!values) {
        return nullptr;
    }
    const auto found = std::find_if(values->begin(), values->end(),
                                    [&](const context_value& v) { return v.variable == variable; });
    return found == values->end() ? nullptr : &*found;
}

// `values` with `variable` set to `value`, or removed for a null value.
context_ptr with_value(const context_ptr& values, std::uint64_t variable,
                       std::shared_ptr<const void> value) {
    auto changed = std::make_shared<context>();
    if (values) {
        changed->reserve(values->size() + 1);
        for (const context_value& each : *values) {
            if (each.variable != variable) {
                changed->push_back(each);
            }
        }
    }
    if (value) {
        changed->push_back({variable, std::move(value)});
    }
    return changed;
}

} // namespace

context_variable::context_variable(std::string name)
    // relaxed: only uniqueness is asked of the ids, which the RMW gives.
    : name_(std::move(name)), id_(last_variable.fetch_add(1, std::memory_order_relaxed) + 1) {}

std::shared_ptr<const void> context_variable::find() const {
    const context_ptr values = current_context();
    const context_value* found = find_in(values, id_);
    return found != nullptr ? found->value : nullptr;
}

context_change context_variable::set(std::shared_ptr<const void> value) const {
    const context_ptr values = current_context();
    const context_value* found = find_in(values, id_);
    std::shared_ptr<const void> previous = found != nullptr ? found->value : nullptr;
    const void* owner = replace_current_context(with_value(values, id_, std::move(value)));
    return {id_, owner, std::move(previous)};
}

void context_variable::reset(context_change change) const {
    if (change.variable == 0) {
        throw invalid_state_error("weft::context_var::reset: the token of '" + name_ +
                                  "' was already used (or moved from)");
    }
    if (change.variable != id_) {
        throw invalid_argument("weft::context_var::reset: the token was made by another "
                               "variable than '" +
                               name_ + "'");
    }
    if (change.owner != current_context_owner()) {
        throw invalid_argument("weft::context_var::reset: the token of '" + name_ +
                               "' was made in another context (another task or thread)");
    }
    replace_current_context(with_value(current_context(), id_, std::move(change.previous)));
}

void context_variable::throw_unset() const {
    throw lookup_error("weft::context_var::get: '" + name_ +
                       "' has no value in the current context and no default");
}

} // namespace weft::detail
