// Every task that has been launched and has not been unregistered, so that shutdown can
// destroy the ones still pending. One shard per worker, and one more for tasks launched from
// threads that are none of the runtime's workers; each is a doubly linked list through the
// frame headers. A task joins the shard of the worker that created it. One that ends on that
// worker leaves at once; one that ends on another worker leaves later, with a batch of others
// (worker::unregister_later), so that a worker running another's tasks takes that shard's
// lock, and moves its cache line, once per batch rather than once per task. A registered task
// holds its running reference until it leaves, so it is never freed while listed; one that
// ended and waits in a batch is listed but done, which all_tasks() skips.
//
// Each shard has its own spin lock, except worker 0's in a runtime of one worker: only that
// worker's thread then touches it. Its tasks end there (no other worker exists), a task
// launched from any other thread goes to the outside shard instead, and every reader
// (all_tasks(), the shutdown's drain and teardown) runs on that thread too: a task, or the
// thread that called run, which is worker 0's.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>

#include <weft/detail/frame_header.hpp>
#include <weft/run.hpp>

#include <weft/detail/spinlock.hpp>

namespace weft::detail {

// A task's shard is the id of the worker that created it, kept in 16 bits of its header.
// The outside shard's index is the number of workers.
static_assert(max_workers <= std::numeric_limits<decltype(frame_header::registry_shard)>::max(),
              "a shard index must fit in frame_header::registry_shard");

class task_registry {
public:
    explicit task_registry(std::size_t workers)
        : shards_(std::make_unique<shard[]>(workers + 1)), count_(workers + 1) {
        shards_[0].shared = workers > 1;
    }

    // The shard of tasks launched from a thread that is none of the runtime's workers.
    std::size_t outside_shard() const noexcept { return count_ - 1; }

    // On the thread of the worker whose id is `shard_index`, or any thread for the outside
    // shard.
    void add(frame_header* header, std::size_t shard_index) noexcept {
        header->registry_shard = static_cast<std::uint16_t>(shard_index);
        shard& s = shards_[shard_index];
        s.lock();
        header->registry_prev = nullptr;
        header->registry_next = s.head;
        if (s.head != nullptr) {
            s.head->registry_prev = header;
        }
        s.head = header;
        s.unlock();
    }

    // remove() without a lock, if the task's shard is one only this thread touches (see the
    // top of the file); false, having done nothing, if it is not.
    bool remove_if_unshared(frame_header* header) noexcept {
        shard& s = shards_[header->registry_shard];
        if (s.shared) {
            return false;
        }
        unlink(s, header);
        return true;
    }

    void remove(frame_header* header) noexcept {
        shard& s = shards_[header->registry_shard];
        s.lock();
        unlink(s, header);
        s.unlock();
    }

    // remove() of `count` tasks of shard `shard_index`, under one hold of its lock.
    void remove_batch(std::size_t shard_index, frame_header* const* headers,
                      std::size_t count) noexcept {
        shard& s = shards_[shard_index];
        s.lock();
        for (std::size_t i = 0; i < count; ++i) {
            unlink(s, headers[i]);
        }
        s.unlock();
    }

    // Hands every pending task to `visit`, each shard under its lock, so none of them can
    // end (and be freed) while visited.
    template <class Visit>
    void for_each(Visit&& visit) {
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            s.lock();
            for (frame_header* header = s.head; header != nullptr; header = header->registry_next) {
                visit(header);
            }
            s.unlock();
        }
    }

    // How many tasks are pending; exact when no task starts or ends meanwhile.
    std::size_t size() {
        std::size_t pending = 0;
        for_each([&](frame_header*) { ++pending; });
        return pending;
    }

    // Whether no task is pending, in O(shards).
    bool empty() noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            s.lock();
            const bool shard_empty = s.head == nullptr;
            s.unlock();
            if (!shard_empty) {
                return false;
            }
        }
        return true;
    }

    // Single-threaded, at shutdown: unlinks every pending task and hands it to `visit`.
    template <class Visit>
    void drain(Visit&& visit) {
        for (std::size_t i = 0; i < count_; ++i) {
            while (frame_header* header = shards_[i].head) {
                remove(header);
                visit(header);
            }
        }
    }

private:
    struct alignas(64) shard {
        // False for a shard only one thread touches (see the top of the file).
        bool shared = true;
        spinlock guard;
        frame_header* head = nullptr;

        void lock() noexcept {
            if (shared) {
                guard.lock();
            }
        }
        void unlock() noexcept {
            if (shared) {
                guard.unlock();
            }
        }
    };

    // Under `s`'s lock.
    static void unlink(shard& s, frame_header* header) noexcept {
        (header->registry_prev ? header->registry_prev->registry_next : s.head) =
            header->registry_next;
        if (header->registry_next != nullptr) {
            header->registry_next->registry_prev = header->registry_prev;
        }
    }

    std::unique_ptr<shard[]> shards_;
    std::size_t count_;
};

} // namespace weft::detail
