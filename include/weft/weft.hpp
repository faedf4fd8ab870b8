// The umbrella header: everything a weft program uses.
#pragma once

#include <weft/awaitable.hpp>
#include <weft/barrier.hpp>
#include <weft/clock.hpp>
#include <weft/completion_order.hpp>
#include <weft/condition.hpp>
#include <weft/coro.hpp>
#include <weft/errors.hpp>
#include <weft/event.hpp>
#include <weft/future.hpp>
#include <weft/gather.hpp>
#include <weft/generator.hpp>
#include <weft/lock.hpp>
#include <weft/outcome.hpp>
#include <weft/queue.hpp>
#include <weft/run.hpp>
#include <weft/runtime_handle.hpp>
#include <weft/runtime_stats.hpp>
#include <weft/semaphore.hpp>
#include <weft/shield.hpp>
#include <weft/sleep.hpp>
#include <weft/task.hpp>
#include <weft/task_group.hpp>
#include <weft/timeout.hpp>
#include <weft/to_thread.hpp>
#include <weft/wait.hpp>
