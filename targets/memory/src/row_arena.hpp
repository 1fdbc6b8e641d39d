#pragma once

// Where a row_store keeps its packed rows: slabs of 256 KiB cut into blocks of the rows'
// sizes rounded up to 8 bytes, with a free list per size. Compared with one heap allocation
// per row, it saves the allocator's header and its 16-byte rounding (about 16 bytes per row),
// frees a whole table at once, and keeps a table's long-lived rows out of the heap the rest
// of the process churns through. Rows above 4 KiB get an allocation of their own.
//
// Freed blocks are reused by rows of the same rounded size; the slabs return to the system
// when the store is destroyed (a rebuild, truncate or restore replaces the store). Not
// thread-safe: only the store's writer allocates and frees.

#include <cstddef>
#include <memory>
#include <unordered_set>
#include <vector>

namespace laredo::targets::memory::detail {

class row_arena {
  public:
    row_arena() = default;
    ~row_arena();
    row_arena(const row_arena&) = delete;
    row_arena& operator=(const row_arena&) = delete;

    // `size` bytes, 8-aligned. Throws std::bad_alloc.
    std::byte* allocate(std::size_t size);
    // Gives back a block allocate(size) returned.
    void deallocate(const std::byte* block, std::size_t size) noexcept;

    // Bytes taken from the system: slabs and rows of their own.
    std::size_t bytes() const noexcept { return slab_bytes_ + large_bytes_; }

  private:
    static constexpr std::size_t granule = 8;
    static constexpr std::size_t largest = 4096;
    static constexpr std::size_t slab_size = 256 * 1024;

    static std::size_t size_class(std::size_t size) noexcept {
        return size == 0 ? 1 : (size + granule - 1) / granule;
    }
    void push_free(std::byte* block, std::size_t size_class) noexcept;

    std::vector<std::unique_ptr<std::byte[]>> slabs_;
    std::byte* bump_ = nullptr;  // the unused end of the newest slab
    std::byte* end_ = nullptr;
    std::vector<std::byte*> free_;  // per size class: a list linked through the blocks
    std::unordered_set<std::byte*> large_;
    std::size_t slab_bytes_ = 0;
    std::size_t large_bytes_ = 0;
};

}  // namespace laredo::targets::memory::detail
