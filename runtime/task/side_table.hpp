// A table of records kept beside frames, keyed by an address in the frame (a header, a
// strand word): a frame pays nothing for a feature until it has a record. Sharded by the
// address, each shard under its own lock, so frames of unrelated tasks rarely contend. A
// record lives from its first use until the frame's last reference (or its destructor)
// forgets it; the caller keeps the frame alive across every use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace weft::detail {

template <class Key, class Record>
class side_table {
public:
    struct alignas(64) shard {
        std::mutex lock;
        std::unordered_map<const Key*, Record> records;

        // Under the lock.
        Record* find(const Key& key) noexcept {
            const auto found = records.find(&key);
            return found == records.end() ? nullptr : &found->second;
        }
    };

    shard& shard_of(const Key& key) noexcept {
        return shards_[(reinterpret_cast<std::uintptr_t>(&key) >> 6) % shards_.size()];
    }

private:
    std::array<shard, 16> shards_;
};

} // namespace weft::detail
