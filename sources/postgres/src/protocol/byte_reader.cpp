#include "byte_reader.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres::detail {

void byte_reader::fail(const std::string& what) const {
    throw error(errc::corrupt_data, fmt::format("{} message: {} (at byte {} of {})", message_, what,
                                                offset(), static_cast<std::size_t>(end_ - begin_)));
}

void byte_reader::truncated(std::size_t n, const char* field) const {
    throw error(errc::corrupt_data,
                fmt::format("{} message truncated: {} needs {} bytes at byte {}, {} left", message_,
                            field, n, offset(), remaining()));
}

void byte_reader::unterminated(const char* field) const {
    throw error(errc::corrupt_data,
                fmt::format("{} message truncated: {} at byte {} has no terminating NUL", message_,
                            field, offset()));
}

void byte_reader::trailing() const {
    throw error(errc::corrupt_data,
                fmt::format("{} message has {} unexpected bytes after its last field (at byte "
                            "{})",
                            message_, remaining(), offset()));
}

}  // namespace laredo::sources::postgres::detail
