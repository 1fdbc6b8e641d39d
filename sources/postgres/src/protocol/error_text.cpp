#include "error_text.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres::detail {

std::string quote_for_error(std::string_view text, std::size_t limit) {
    std::string out = "\"";
    const std::size_t n = text.size() < limit ? text.size() : limit;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if (text.size() > limit) out += fmt::format("... ({} bytes)", text.size());
    return out;
}

std::string describe_tag(char tag) {
    const auto c = static_cast<unsigned char>(tag);
    if (c > 0x20 && c < 0x7f) return fmt::format("'{}'", tag);
    return fmt::format("0x{:02x}", c);
}

std::string message_of(const error& e) {
    std::string_view what = e.what();
    const std::string suffix = std::string(": ") + e.code().what();
    if (what.size() >= suffix.size() && what.substr(what.size() - suffix.size()) == suffix) {
        what.remove_suffix(suffix.size());
    }
    return std::string(what);
}

void rethrow_with_context(const error& e, std::string_view context) {
    throw error(e.code(), fmt::format("{}: {}", context, message_of(e)));
}

}  // namespace laredo::sources::postgres::detail
