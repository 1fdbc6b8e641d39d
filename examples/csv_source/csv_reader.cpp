#include "csv_reader.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

namespace laredo::examples {

csv_reader csv_reader::open(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw error(errc::unknown_table, fmt::format("cannot read {}", file.string()));
    return csv_reader(std::string(std::istreambuf_iterator<char>(in), {}));
}

bool csv_reader::at_separator() const noexcept {
    if (pos_ >= text_.size()) return true;
    const char c = text_[pos_];
    return c == ',' || c == '\n' ||
           (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
}

std::optional<std::vector<std::string>> csv_reader::next() {
    if (pos_ >= text_.size()) return std::nullopt;
    ++record_;
    std::vector<std::string> fields;
    for (;;) {
        std::string field;
        if (text_[pos_] == '"') {
            for (++pos_;; ++pos_) {
                if (pos_ >= text_.size()) {
                    throw error(errc::corrupt_data,
                                fmt::format("record {}: unterminated quoted field", record_));
                }
                if (text_[pos_] != '"') {
                    field += text_[pos_];
                } else if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
                    field += '"';
                    ++pos_;
                } else {
                    ++pos_;
                    break;
                }
            }
            if (!at_separator()) {
                throw error(errc::corrupt_data,
                            fmt::format("record {}: text after the closing quote of field {}",
                                        record_, fields.size() + 1));
            }
        } else {
            while (!at_separator()) field += text_[pos_++];
        }
        fields.push_back(std::move(field));
        if (pos_ >= text_.size()) return fields;
        if (text_[pos_] == ',') {
            // A comma at the very end still opens one more (empty) field.
            if (++pos_ >= text_.size()) {
                fields.emplace_back();
                return fields;
            }
            continue;
        }
        pos_ += text_[pos_] == '\r' ? 2 : 1;
        return fields;
    }
}

}  // namespace laredo::examples
