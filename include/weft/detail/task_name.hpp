// Task names (asyncio's Task.get_name and set_name). A name lives in a side table beside
// the frames, made only for a task that was named or asked for its name, so a frame pays
// nothing for the feature; the task's header flags the record (task_flag::name_record) for its
// last reference to drop. A task never named is called "Task-N": N counts, from 1 and
// across the process, the tasks whose default name was needed, in the order it was first
// needed (asyncio numbers them as they are made, which would cost every spawn a shared
// counter).
#pragma once

#include <string>

#include <weft/detail/frame_header.hpp>

namespace weft::detail {

// Any thread holding a reference to the task.
std::string task_name(frame_header& header);
void set_task_name(frame_header& header, std::string name);

// The name for a report by the task's last reference: the recorded one, else a default
// name given now and not recorded, as nobody can ask for the name again.
std::string task_name_for_report(frame_header& header);

// The last reference to a task whose flags include a name record, before it frees the frame.
void forget_task_name(frame_header& header) noexcept;

} // namespace weft::detail
