// The tasks of a runtime that have not ended, as handles: what weft::all_tasks() returns for
// the running runtime (without the runtime's internal tasks), and what a shutdown names when
// tasks outlive their grace (with them).
#pragma once

#include <vector>

#include <weft/any_task.hpp>

namespace weft::detail {

class runtime;

std::vector<any_task> pending_tasks(runtime& owner, bool with_internal);

} // namespace weft::detail
