#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace laredo::sources::postgres {

namespace detail {
struct copy_data_access;
}

// One CopyData message as received, e.g. a replication 'w' (XLogData) or 'k' (keepalive)
// message, tag byte included. It owns the buffer libpq allocated for the message, so handing
// it on costs no copy. Move-only.
class copy_data {
  public:
    copy_data() = default;

    const char* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    std::span<const std::byte> bytes() const noexcept {
        return {reinterpret_cast<const std::byte*>(data_.get()), size_};
    }

  private:
    friend struct detail::copy_data_access;
    struct libpq_free {
        void operator()(char* p) const noexcept;
    };
    copy_data(char* adopted, std::size_t size) noexcept : data_(adopted), size_(size) {}

    std::unique_ptr<char, libpq_free> data_;
    std::size_t size_ = 0;
};

// What copy_out hands its handler: whole CopyData messages concatenated (for COPY ... TO
// STDOUT in text format, whole lines: one row each, '\n'-terminated). Valid only during the
// handler call.
struct copy_chunk {
    std::string_view data;
    std::size_t messages = 0;
};

}  // namespace laredo::sources::postgres
