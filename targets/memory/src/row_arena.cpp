#include "row_arena.hpp"

#include <cstring>

namespace laredo::targets::memory::detail {

row_arena::~row_arena() {
    for (std::byte* block : large_) delete[] block;
}

void row_arena::push_free(std::byte* block, std::size_t size_class) noexcept {
    std::memcpy(block, &free_[size_class], sizeof(std::byte*));
    free_[size_class] = block;
}

std::byte* row_arena::allocate(std::size_t size) {
    if (size > largest) {
        auto block = std::make_unique_for_overwrite<std::byte[]>(size);
        large_.insert(block.get());
        large_bytes_ += size;
        return block.release();
    }
    const std::size_t c = size_class(size);
    if (c < free_.size() && free_[c]) {
        std::byte* block = free_[c];
        std::memcpy(&free_[c], block, sizeof(std::byte*));
        return block;
    }
    const std::size_t rounded = c * granule;
    if (static_cast<std::size_t>(end_ - bump_) < rounded) {
        // What is left of the slab serves a smaller row later.
        if (end_ != bump_) {
            const std::size_t rest = static_cast<std::size_t>(end_ - bump_) / granule;
            if (rest >= free_.size()) free_.resize(rest + 1);
            push_free(bump_, rest);
        }
        slabs_.push_back(std::make_unique_for_overwrite<std::byte[]>(slab_size));
        slab_bytes_ += slab_size;
        bump_ = slabs_.back().get();
        end_ = bump_ + slab_size;
    }
    if (c >= free_.size()) free_.resize(c + 1);
    std::byte* block = bump_;
    bump_ += rounded;
    return block;
}

void row_arena::deallocate(const std::byte* block, std::size_t size) noexcept {
    // Blocks were handed out writable; only the caller's pointer lost its mutability.
    auto* writable = const_cast<std::byte*>(block);
    if (size > largest) {
        large_.erase(writable);
        large_bytes_ -= size;
        delete[] writable;
        return;
    }
    push_free(writable, size_class(size));
}

}  // namespace laredo::targets::memory::detail
