#include "laredo/deadletter/local_store.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <fmt/format.h>

namespace laredo::deadletter {

namespace {

constexpr std::string_view suffix = ".jsonl";
constexpr std::size_t max_name = 200;  // under NAME_MAX (255) with room for ".tmp" and a dot

bool kept(char c, bool first) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || (c == '.' && !first);
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // only upper case: one spelling per id
}

}  // namespace

std::string local_store::file_name(std::string_view pipeline_id) {
    if (pipeline_id.empty())
        throw error(errc::invalid_argument, "dead letter without a pipeline id");
    if (!json::is_valid_utf8(pipeline_id)) {
        throw error(errc::invalid_argument, fmt::format("pipeline id \"{}\" is not valid UTF-8",
                                                        json::sanitize_utf8(pipeline_id)));
    }
    std::string name;
    name.reserve(pipeline_id.size() + suffix.size());
    for (std::size_t i = 0; i < pipeline_id.size(); ++i) {
        const char c = pipeline_id[i];
        if (kept(c, i == 0)) {
            name += c;
        } else {
            name += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    name += suffix;
    if (name.size() > max_name) {
        throw error(errc::invalid_argument,
                    fmt::format("pipeline id \"{}\" is too long for a dead-letter file name "
                                "({} bytes encoded, at most {})",
                                pipeline_id, name.size(), max_name));
    }
    return name;
}

std::string local_store::pipeline_of(std::string_view name) {
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) return {};
    name.remove_suffix(suffix.size());
    std::string id;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c == '%') {
            if (i + 2 >= name.size()) return {};
            const int hi = hex_value(name[i + 1]), lo = hex_value(name[i + 2]);
            if (hi < 0 || lo < 0) return {};
            id += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (kept(c, i == 0)) {
            id += c;
        } else {
            return {};
        }
    }
    // Only the canonical spelling is ours ("%41" for "A" is not).
    try {
        if (file_name(id) != std::string(name) + std::string(suffix)) return {};
    } catch (const error&) {
        return {};
    }
    return id;
}

}  // namespace laredo::deadletter
