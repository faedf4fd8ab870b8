// The buffer of a weft::net::stream_reader: bytes read from a stream and not yet taken, in
// [begin_, end_) of storage_, which holds at most `limit` bytes. Storage is allocated at the
// first read, at min(limit, 8 KiB), and doubles (up to the limit) only when it is full with
// nothing taken; taking bytes only moves begin_, and the bytes left are moved to the front
// when the free tail gets smaller than half the storage, so a read never gets a sliver.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace weft::detail {

class read_buffer {
public:
    static constexpr std::size_t first_capacity = 8 * 1024;

    explicit read_buffer(std::size_t limit) noexcept : limit_(limit) {}

    std::string_view data() const noexcept { return {storage_.get() + begin_, end_ - begin_}; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool full() const noexcept { return size() >= limit_; }
    std::size_t limit() const noexcept { return limit_; }

    // Drops the first `count` buffered bytes (count <= size()).
    void consume(std::size_t count) noexcept {
        begin_ += count;
        if (begin_ == end_) {
            begin_ = end_ = 0;
        }
    }

    // Copies up to out.size() buffered bytes into `out` and drops them; returns how many.
    std::size_t take(std::span<char> out) noexcept {
        const std::size_t count = std::min(out.size(), size());
        if (count > 0) {
            std::memcpy(out.data(), storage_.get() + begin_, count);
            consume(count);
        }
        return count;
    }

    // Room after the buffered bytes to read into, made by moving them to the front or by
    // growing; empty only when the buffer is full. commit() adds what a read put there.
    std::span<char> space() {
        if (capacity_ - end_ < capacity_ / 2 && begin_ > 0) {
            std::memmove(storage_.get(), storage_.get() + begin_, size());
            end_ -= begin_;
            begin_ = 0;
        }
        if (end_ == capacity_ && capacity_ < limit_) {
            grow(std::min(limit_, std::max(first_capacity, capacity_ * 2)));
        }
        return {storage_.get() + end_, capacity_ - end_};
    }
    void commit(std::size_t count) noexcept { end_ += count; }

private:
    void grow(std::size_t capacity) {
        auto larger = std::make_unique_for_overwrite<char[]>(capacity);
        if (size() > 0) {
            std::memcpy(larger.get(), storage_.get() + begin_, size());
        }
        end_ -= begin_;
        begin_ = 0;
        storage_ = std::move(larger);
        capacity_ = capacity;
    }

    std::unique_ptr<char[]> storage_;
    std::size_t capacity_ = 0; // never above limit_
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t limit_;
};

} // namespace weft::detail
