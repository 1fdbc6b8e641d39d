#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace laredo::examples {

// Splits RFC 4180 text into records: fields separated by commas, records by LF or CRLF; a
// field in double quotes may hold commas, line breaks and doubled quotes (""). An unquoted
// field is taken as it is, quotes included.
class csv_reader {
  public:
    explicit csv_reader(std::string text) : text_(std::move(text)) {}

    // A reader over a whole file. A file that cannot be read is errc::unknown_table naming
    // it: for the CSV source a table is its file.
    static csv_reader open(const std::filesystem::path& file);

    // The next record, or nullopt at the end. A blank line is a record of one empty field.
    // Throws laredo::error(errc::corrupt_data) naming the record for an unterminated quoted
    // field or text after a closing quote.
    std::optional<std::vector<std::string>> next();

    // The 1-based number of the record next() returned last.
    std::size_t record_number() const noexcept { return record_; }

  private:
    bool at_separator() const noexcept;

    std::string text_;
    std::size_t pos_ = 0;
    std::size_t record_ = 0;
};

}  // namespace laredo::examples
