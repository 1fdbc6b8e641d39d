#include "resume_file.hpp"

#include "../client/replica_file.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "laredo/replica/positions.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <sstream>

namespace laredo::sources::fanout::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view format_name = "laredo.fanout-source";

}  // namespace

void save_resume_position(const std::filesystem::path& path, const position& pos) {
    json::object o;
    o["format"] = format_name;
    o["version"] = 1;
    o["position"] = replica::position_to_wire(pos);
    replica::detail::write_durably(path, json::serialize(o) + "\n", "fanout source resume file");
}

std::optional<position> load_resume_position(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    const auto bad = [&](std::string_view what) {
        return error(errc::corrupt_data,
                     fmt::format("fanout source resume file {}: {}", path.string(), what));
    };
    json::value v;
    try {
        v = laredo::json::parse(text.str());
    } catch (const error& e) {
        throw bad(e.what());
    }
    const auto* o = v.if_object();
    const auto* format = o ? o->if_contains("format") : nullptr;
    if (!format || !format->is_string() || format->get_string() != format_name) {
        throw bad("not a laredo fanout source resume file");
    }
    const auto* p = o->if_contains("position");
    if (!p || !p->is_string()) throw bad("\"position\" is missing");
    try {
        return replica::position_from_wire(p->get_string());
    } catch (const error& e) {
        throw bad(e.what());
    }
}

}  // namespace laredo::sources::fanout::detail
