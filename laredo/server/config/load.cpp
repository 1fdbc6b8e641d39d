#include "laredo/server/config/load.hpp"

#include "laredo/server/config/document.hpp"
#include "laredo/server/config/parse.hpp"
#include "laredo/server/config/reader.hpp"
#include "laredo/server/config/units.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

extern char** environ;

namespace laredo::server::config {

namespace {

load_result load_document(toml::table& root, std::vector<std::string> files,
                          const std::vector<std::string>& overrides,
                          const std::map<std::string, std::string>& environment,
                          std::vector<problem> problems) {
    load_result result;
    result.files = std::move(files);
    detail::read_context ctx;
    ctx.problems = &result.problems;
    ctx.environment = &environment;
    for (const auto& o : overrides) {
        auto path = detail::apply_override(root, o, problems);
        if (!path.empty()) ctx.set_paths.insert(path);
    }
    result.problems = std::move(problems);
    // A syntax error leaves a partial document: reading it would add confusing problems.
    if (!result.problems.empty()) return result;

    detail::node_reader reader(ctx, &root, "", result.files.empty() ? "" : result.files.front());
    detail::parse_sources(reader, result.config);
    detail::parse_tables(reader, result.config);
    detail::parse_storage(reader, result.config);
    detail::parse_service(reader, result.config);
    reader.finish();
    detail::check_consistency(result.config, result.problems);

    for (const auto& [name, v] : environment) {
        if (ctx.env_used.count(name) || is_reserved_variable(name)) continue;
        std::string message = "does not override any key";
        if (auto best = closest(name, ctx.env_known); !best.empty())
            message += "; did you mean " + best + "?";
        result.problems.push_back({"", "environment " + name, message});
    }
    result.effective = detail::masked_toml(root, ctx.secret_paths);
    return result;
}

}  // namespace

std::string problem::to_string() const {
    std::string out;
    if (!origin.empty()) out += origin + ": ";
    if (!key.empty()) out += key + ": ";
    return out + message;
}

load_result load(const load_options& options) {
    std::vector<problem> problems;
    std::vector<std::string> files;
    toml::table root;
    auto read_file = [&](const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            problems.push_back({"", path.string(), "cannot read the file"});
            return;
        }
        std::stringstream text;
        text << in.rdbuf();
        files.push_back(path.string());
        detail::merge_text(root, text.str(), path.string(), problems);
    };
    read_file(options.config_file);
    if (!options.conf_dir.empty()) {
        std::error_code ec;
        if (std::filesystem::is_directory(options.conf_dir, ec)) {
            std::vector<std::filesystem::path> extra;
            for (const auto& entry : std::filesystem::directory_iterator(options.conf_dir, ec))
                if (entry.path().extension() == ".toml") extra.push_back(entry.path());
            std::sort(extra.begin(), extra.end());
            for (const auto& p : extra) read_file(p);
        }
    }
    return load_document(root, std::move(files), options.overrides, options.environment,
                         std::move(problems));
}

load_result load_text(const std::string& text, const std::string& name,
                      const std::vector<std::string>& overrides,
                      const std::map<std::string, std::string>& environment) {
    std::vector<problem> problems;
    toml::table root;
    detail::merge_text(root, text, name, problems);
    return load_document(root, {name}, overrides, environment, std::move(problems));
}

std::map<std::string, std::string> laredo_environment() {
    std::map<std::string, std::string> out;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        if (entry.rfind("LAREDO_", 0) != 0) continue;
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return out;
}

bool is_reserved_variable(const std::string& name) {
    // The server's own, and the laredo CLI's (a shell may export both for either program).
    return name == "LAREDO_CONFIG" || name == "LAREDO_CONF_DIR" || name == "LAREDO_ADDRESS" ||
           name == "LAREDO_SERVER" || name == "LAREDO_TOKEN";
}

}  // namespace laredo::server::config
