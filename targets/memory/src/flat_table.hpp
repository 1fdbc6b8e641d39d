#pragma once

// An open-addressing hash table of pointers: the memory targets' indexes. A slot is one
// 64-bit word: the pointer in the low 48 bits and 15 bits of its hash in the high ones, so a
// probe compares the hash bits of each slot it passes and reads what a pointer points to only
// when they match (one in 32768 for another key). Linear probing from the slot the hash's high
// bits pick; erasing leaves a tombstone. The table holds at most 85% of its slots (live and
// tombstones together) and grows by half, so a table holding n pointers costs 8 n / 0.57..0.85
// = 9.4..14 bytes per pointer (or doubles: 9.4..18.8 bytes, half the rehashing).
//
// The table does not know what its pointers mean: callers pass the hash with each pointer and
// a predicate to recognise the one they look for, and `hash_of(pointer)` whenever the table is
// rebuilt. Not thread-safe; the memory targets guard it with their lock and build grown copies
// beside the live one (rebuilt()) so readers never wait for a rehash.
//
// Pointers must fit 48 bits (user-space addresses on x86-64 and AArch64 Linux do) and be at
// least 2-aligned apart from a low tag bit the caller may set; insert() refuses others.

#include "laredo/error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace laredo::targets::memory::detail {

class flat_table {
  public:
    using word = std::uintptr_t;  // what a slot holds for the caller: a pointer, maybe | 1
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    // How much a full table grows: by half (the least memory per word), or doubling (half
    // the rehashing, for a table whose words are costly to hash again).
    enum class growth : std::uint8_t { half, double_ };

    flat_table() noexcept = default;
    explicit flat_table(growth g) noexcept : growth_(g) {}
    flat_table(flat_table&& other) noexcept
        : slots_(std::move(other.slots_)),
          capacity_(std::exchange(other.capacity_, 0)),
          size_(std::exchange(other.size_, 0)),
          deleted_(std::exchange(other.deleted_, 0)),
          growth_(other.growth_) {}
    flat_table& operator=(flat_table&& other) noexcept {
        flat_table taken(std::move(other));
        std::swap(slots_, taken.slots_);
        std::swap(capacity_, taken.capacity_);
        std::swap(size_, taken.size_);
        std::swap(deleted_, taken.deleted_);
        std::swap(growth_, taken.growth_);
        return *this;
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t capacity() const noexcept { return capacity_; }
    // Bytes held by the slots.
    std::size_t bytes() const noexcept { return capacity_ * sizeof(std::uint64_t); }

    // The slot of the word stored with `hash` for which matches(word) holds, or npos.
    template <class Match>
    std::size_t find(std::uint64_t hash, Match&& matches) const {
        return probe(hash, matches).found;
    }

    struct probe_result {
        std::size_t found = npos;  // the matching word's slot
        std::size_t free = npos;   // else where insert_at() may put a word with this hash
    };
    // One walk that finds the word, or the slot a new word with `hash` goes to.
    template <class Match>
    probe_result probe(std::uint64_t hash, Match&& matches) const {
        probe_result out;
        if (capacity_ == 0) return out;
        const std::uint64_t tag = tag_of(hash);
        for (std::size_t i = home(hash);; i = next(i)) {
            const std::uint64_t s = slots_[i];
            if (s == empty_slot) {
                if (out.free == npos) out.free = i;
                return out;
            }
            if (s == deleted_slot) {
                if (out.free == npos) out.free = i;
            } else if ((s & tag_mask) == tag && matches(s & word_mask)) {
                out.found = i;
                return out;
            }
        }
    }

    word at(std::size_t slot) const noexcept { return slots_[slot] & word_mask; }
    // Asks the CPU for the slot a probe for `hash` starts at, ahead of the probe.
    void prefetch(std::uint64_t hash) const noexcept {
        if (capacity_ != 0) __builtin_prefetch(&slots_[home(hash)]);
    }
    // Replaces the word in `slot` by one stored with the same hash.
    void set(std::size_t slot, word w) { slots_[slot] = (slots_[slot] & tag_mask) | checked(w); }
    void erase(std::size_t slot) noexcept {
        slots_[slot] = deleted_slot;
        --size_;
        ++deleted_;
    }

    // Stores `w`, which is not in the table, with `hash`. Rebuilds the table first when it
    // is full (hash_of(word) gives each stored word's hash).
    template <class HashOf>
    void insert(std::uint64_t hash, word w, HashOf&& hash_of) {
        if (!fits(1)) *this = rebuilt(1, hash_of);
        std::size_t i = home(hash);
        while (is_live(slots_[i])) i = next(i);
        insert_at(i, hash, w);
    }
    // Stores `w` in `slot`, the `free` answer of a probe() for `hash` made while fits(1).
    void insert_at(std::size_t slot, std::uint64_t hash, word w) {
        if (slots_[slot] == deleted_slot) --deleted_;
        slots_[slot] = tag_of(hash) | checked(w);
        ++size_;
    }

    // True when `incoming` more words can be inserted without a rebuild.
    bool fits(std::size_t incoming) const noexcept {
        return size_ + deleted_ + incoming <= limit(capacity_);
    }
    // A copy without tombstones that takes `incoming` more words without a rebuild: the same
    // capacity when the tombstones made it full, else half as large again (or smaller, when
    // most words were erased).
    template <class HashOf>
    flat_table rebuilt(std::size_t incoming, HashOf&& hash_of) const {
        const std::size_t need = size_ + incoming;
        std::size_t capacity = capacity_;
        if (need > limit(capacity_) * 3 / 4) {
            capacity = growth_ == growth::half ? capacity_ + capacity_ / 2 : capacity_ * 2;
        } else if (need < limit(capacity_) / 4) {
            capacity = need * 2;
        }
        while (limit(capacity) < need) capacity += capacity / 2 + min_capacity;
        if (capacity < min_capacity) capacity = min_capacity;
        flat_table out(capacity, growth_);
        // hash_of reads what each word points to and each word lands on a random slot: two
        // cache misses a word. The words go through a small ring in three steps, each a few
        // words behind the one before: prefetch what the word points to, hash it and
        // prefetch its new slot, store it.
        constexpr std::size_t ring = 16;
        constexpr std::size_t hash_lag = 8;
        constexpr std::size_t store_lag = 4;
        word words[ring];
        std::uint64_t hashes[ring];
        std::size_t taken = 0;
        std::size_t hashed = 0;
        std::size_t stored = 0;
        const auto hash_next = [&] {
            const std::size_t j = hashed++ % ring;
            hashes[j] = hash_of(words[j]);
            __builtin_prefetch(&out.slots_[out.home(hashes[j])]);
        };
        const auto store_next = [&] {
            const std::size_t j = stored++ % ring;
            std::size_t k = out.home(hashes[j]);
            while (out.slots_[k] != empty_slot) k = out.next(k);
            out.slots_[k] = tag_of(hashes[j]) | words[j];
        };
        for (std::size_t i = 0; i < capacity_; ++i) {
            if (!is_live(slots_[i])) continue;
            const word w = slots_[i] & word_mask;
            __builtin_prefetch(reinterpret_cast<const void*>(w));
            words[taken++ % ring] = w;
            if (taken - hashed > hash_lag) hash_next();
            if (hashed - stored > store_lag) store_next();
        }
        while (hashed < taken) hash_next();
        while (stored < hashed) store_next();
        out.size_ = taken;
        return out;
    }

    // Calls f(word) for each stored word, in slot order.
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < capacity_; ++i) {
            if (is_live(slots_[i])) f(slots_[i] & word_mask);
        }
    }

  private:
    static constexpr std::uint64_t empty_slot = 0;
    static constexpr std::uint64_t deleted_slot = 1;  // no word is 1: it has a tag
    static constexpr std::uint64_t word_mask = (std::uint64_t{1} << 48) - 1;
    static constexpr std::uint64_t tag_mask = ~word_mask;
    static constexpr std::size_t min_capacity = 8;

    flat_table(std::size_t capacity, growth g)
        : slots_(std::make_unique<std::uint64_t[]>(capacity)), capacity_(capacity), growth_(g) {}

    static bool is_live(std::uint64_t s) noexcept { return (s & tag_mask) != 0; }
    // 15 bits of the hash (the low ones: home() uses the high ones), never 0.
    static constexpr std::uint64_t tag_of(std::uint64_t hash) noexcept {
        return (hash << 48) | (std::uint64_t{1} << 48);
    }
    static std::uint64_t checked(word w) {
        if (w == 0 || (static_cast<std::uint64_t>(w) & tag_mask) != 0) {
            throw error(errc::target_failed,
                        "memory target: a row address does not fit the 48 bits its index keeps");
        }
        return w;
    }
    // 85% of the slots, and always one empty slot so that a probe ends.
    static constexpr std::size_t limit(std::size_t capacity) noexcept {
        if (capacity == 0) return 0;
        const std::size_t l = capacity * 17 / 20;
        return l < capacity ? l : capacity - 1;
    }
    // The hash's high bits scaled to the capacity (no power of two needed).
    __extension__ typedef unsigned __int128 wide;
    std::size_t home(std::uint64_t hash) const noexcept {
        return static_cast<std::size_t>((static_cast<wide>(hash) * capacity_) >> 64);
    }
    std::size_t next(std::size_t i) const noexcept { return i + 1 == capacity_ ? 0 : i + 1; }

    std::unique_ptr<std::uint64_t[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
    std::size_t deleted_ = 0;  // tombstones
    growth growth_ = growth::half;
};

}  // namespace laredo::targets::memory::detail
