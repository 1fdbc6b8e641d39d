#include "laredo/position.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo {

position position::from_sequence(std::uint64_t value) noexcept {
    position p;
    p.kind_ = kind::sequence;
    p.major_ = value;
    return p;
}

position position::from_pair(std::uint64_t major, std::uint64_t minor) noexcept {
    position p;
    p.kind_ = kind::pair;
    p.major_ = major;
    p.minor_ = minor;
    return p;
}

position position::from_text(std::string text) {
    position p;
    p.kind_ = kind::text;
    p.text_ = std::move(text);
    return p;
}

namespace {
[[noreturn]] void wrong_kind(const position& p, const char* wanted) {
    throw error(errc::invalid_position,
                fmt::format("position {} is not a {} position", p.debug_string(), wanted));
}
}  // namespace

std::uint64_t position::sequence() const {
    if (kind_ != kind::sequence) wrong_kind(*this, "sequence");
    return major_;
}

std::uint64_t position::major() const {
    if (kind_ != kind::pair) wrong_kind(*this, "pair");
    return major_;
}

std::uint64_t position::minor() const {
    if (kind_ != kind::pair) wrong_kind(*this, "pair");
    return minor_;
}

const std::string& position::text() const {
    if (kind_ != kind::text) wrong_kind(*this, "text");
    return text_;
}

std::string position::debug_string() const {
    switch (kind_) {
        case kind::empty:
            return "<empty>";
        case kind::sequence:
            return std::to_string(major_);
        case kind::pair:
            return fmt::format("({},{})", major_, minor_);
        case kind::text:
            return fmt::format("'{}'", text_);
    }
    return "<invalid>";
}

}  // namespace laredo
