#include "record.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace laredo::deadletter::detail {

namespace {

constexpr std::uint64_t max_exact_integer = std::uint64_t{1} << 53;

// `,"crc":"xxxxxxxx"}`: the checksum is the last member, so the checksummed text is the line
// with this suffix replaced by `}` and can be verified before anything is parsed.
constexpr std::string_view crc_prefix = ",\"crc\":\"";
constexpr std::size_t crc_suffix_size = crc_prefix.size() + 8 + 2;

std::string seal(const boost::json::object& o) {
    std::string body = boost::json::serialize(o);
    const std::uint32_t crc = json::crc32c(body);
    body.pop_back();  // the closing '}'
    body += fmt::format("{}{:08x}\"}}\n", crc_prefix, crc);
    return body;
}

boost::json::value encode_u64(std::uint64_t v) {
    if (v > max_exact_integer) return boost::json::string(std::to_string(v));
    return v;
}

std::optional<std::uint64_t> decode_u64(const boost::json::value* v) {
    if (!v) return std::nullopt;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    if (v->is_string()) {
        const auto& s = v->get_string();
        std::uint64_t u = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), u);
        if (!s.empty() && r.ec == std::errc{} && r.ptr == s.data() + s.size()) return u;
    }
    return std::nullopt;
}

const std::string* string_member(const boost::json::object& o, std::string_view key,
                                 std::string& storage) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return nullptr;
    storage.assign(v->get_string().data(), v->get_string().size());
    return &storage;
}

decoded_line corrupt(std::string problem) {
    decoded_line d;
    d.what = decoded_line::kind::corrupt;
    d.problem = std::move(problem);
    return d;
}

decoded_line refused(std::string problem) {
    decoded_line d;
    d.what = decoded_line::kind::refused;
    d.problem = std::move(problem);
    return d;
}

}  // namespace

std::string encode_letter(const dead_letter& l) {
    boost::json::object o;
    o.reserve(11);
    o.emplace("v", format_version);
    o.emplace("sequence", encode_u64(l.sequence));
    o.emplace("pipeline", l.pipeline_id);
    o.emplace("written_at", json::format_time_point(l.written_at));
    // Positions must come back byte for byte: one that is not UTF-8 (never from the built-in
    // sources) is kept as base64 rather than altered.
    if (json::is_valid_utf8(l.position)) {
        o.emplace("position", l.position);
    } else {
        o.emplace("position", boost::json::object{{"base64", json::base64_encode(l.position)}});
    }
    o.emplace("error_code", json::sanitize_utf8(l.error_code));
    o.emplace("error_message", json::sanitize_utf8(l.error_message));
    o.emplace("attempts", l.attempts);
    o.emplace("change", json::encode_change(l.change));
    return seal(o);
}

std::string encode_header(std::string_view pipeline_id, std::uint64_t next_sequence) {
    boost::json::object o;
    o.emplace("v", format_version);
    o.emplace("header", true);
    o.emplace("pipeline", pipeline_id);
    o.emplace("next_sequence", encode_u64(next_sequence));
    return seal(o);
}

decoded_line decode_line(std::string_view line, std::string_view pipeline_id) {
    if (line.size() < 2 + crc_suffix_size ||
        line.substr(line.size() - crc_suffix_size, crc_prefix.size()) != crc_prefix ||
        line.substr(line.size() - 2) != "\"}") {
        return corrupt("no checksum at the end (a torn or damaged line)");
    }
    const std::string_view hex = line.substr(line.size() - 10, 8);
    std::uint32_t stored = 0;
    for (char c : hex) {
        int d = -1;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        if (d < 0) return corrupt("malformed checksum");
        stored = stored << 4 | static_cast<std::uint32_t>(d);
    }
    std::string body(line.substr(0, line.size() - crc_suffix_size));
    body += '}';
    if (json::crc32c(body) != stored) return corrupt("checksum mismatch");

    boost::json::value j;
    try {
        j = json::parse(body);
    } catch (const error& e) {
        return corrupt(e.what());
    }
    if (!j.is_object()) return corrupt("not a JSON object");
    const auto& o = j.get_object();
    const auto* v = o.if_contains("v");
    if (!v || !v->is_int64()) return corrupt("no format version");
    if (v->get_int64() != format_version) {
        return refused(fmt::format("format version {}; this laredo reads version {}",
                                   v->get_int64(), format_version));
    }
    std::string storage;
    const std::string* pipeline = string_member(o, "pipeline", storage);
    if (!pipeline) return corrupt("no pipeline id");
    if (*pipeline != pipeline_id) {
        return refused(fmt::format("written for pipeline \"{}\", not \"{}\"",
                                   json::sanitize_utf8(*pipeline), pipeline_id));
    }

    if (const auto* h = o.if_contains("header")) {
        const auto next = decode_u64(o.if_contains("next_sequence"));
        if (!h->is_bool() || !h->get_bool() || !next) return corrupt("malformed header");
        decoded_line d;
        d.what = decoded_line::kind::header;
        d.next_sequence = *next;
        return d;
    }

    decoded_line d;
    d.what = decoded_line::kind::letter;
    auto& l = d.letter;
    try {
        const auto sequence = decode_u64(o.if_contains("sequence"));
        if (!sequence) return corrupt("no sequence");
        l.sequence = *sequence;
        l.pipeline_id = *pipeline;
        const std::string* written = string_member(o, "written_at", storage);
        if (!written) return corrupt("no written_at");
        l.written_at = json::parse_time_point(*written);
        const auto* pos = o.if_contains("position");
        if (pos && pos->is_string()) {
            l.position = std::string(pos->get_string());
        } else if (pos && pos->is_object() && pos->get_object().size() == 1 &&
                   pos->get_object().contains("base64") &&
                   pos->get_object().at("base64").is_string()) {
            l.position = json::base64_decode(pos->get_object().at("base64").get_string());
        } else {
            return corrupt("no position");
        }
        const std::string* code = string_member(o, "error_code", storage);
        if (!code) return corrupt("no error_code");
        l.error_code = *code;
        const std::string* message = string_member(o, "error_message", storage);
        if (!message) return corrupt("no error_message");
        l.error_message = *message;
        const auto* attempts = o.if_contains("attempts");
        if (!attempts || !attempts->is_int64() || attempts->get_int64() < 0 ||
            attempts->get_int64() > std::numeric_limits<int>::max())
            return corrupt("no attempts");
        l.attempts = static_cast<int>(attempts->get_int64());
        const auto* change = o.if_contains("change");
        if (!change || !change->is_object()) return corrupt("no change");
        l.change = json::decode_change(change->get_object());
    } catch (const error& e) {
        return corrupt(e.what());
    }
    return d;
}

}  // namespace laredo::deadletter::detail
