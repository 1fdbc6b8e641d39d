// Changes a pipeline could not apply: list, replay, purge.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace laredo::cli {

namespace json = boost::json;

namespace {

const json::array& array_or_empty(const json::value& v, std::string_view path) {
    static const json::array empty;
    const auto* a = find_path(v, path);
    return a && a->is_array() ? a->as_array() : empty;
}

std::string dead_letters_path(const std::string& pipeline) {
    return "/v1/dead-letters/" + url_encode(pipeline);
}

}  // namespace

void add_dead_letter_commands(CLI::App& app, session& s) {
    auto* group = app.add_subcommand("dead-letters", "changes a pipeline could not apply");
    group->require_subcommand(1);

    auto* list = group->add_subcommand(
        "list", "the pipelines with dead letters, or one pipeline's dead letters");
    auto list_pipeline = std::make_shared<std::string>();
    auto limit = std::make_shared<std::size_t>(100);
    list->add_option("pipeline", *list_pipeline, "one pipeline's id");
    list->add_option("--limit", *limit, "at most this many")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    s.on_run(list, [&s, list_pipeline, limit] {
        if (list_pipeline->empty()) {
            auto render = [](const json::value& v, std::size_t width) {
                return render_table({field("PIPELINE", "pipeline"), field("COUNT", "count")},
                                    array_or_empty(v, "pipelines"), width) +
                       "store bytes used: " + text_at(v, "bytes_used") + "\n";
            };
            s.print(s.client().get("/v1/dead-letters"), render);
        } else {
            auto render = [](const json::value& v, std::size_t width) {
                return render_table(
                    {field("SEQ", "sequence"), field("WRITTEN", "written_at"),
                     field("POSITION", "position"), field("ATTEMPTS", "attempts"),
                     field("ERROR", "error_message"), field("ACTION", "change.action")},
                    array_or_empty(v, "dead_letters"), width);
            };
            s.print(s.client().get(dead_letters_path(*list_pipeline) +
                                   "?limit=" + std::to_string(*limit)),
                    render);
        }
        return exit_ok;
    });

    auto* replay = group->add_subcommand("replay", "apply a pipeline's dead letters again");
    auto replay_pipeline = std::make_shared<std::string>();
    replay->add_option("pipeline", *replay_pipeline, "the pipeline's id")->required();
    s.on_run(replay, [&s, replay_pipeline] {
        auto render = [](const json::value& v, std::size_t) {
            return "replayed " + text_at(v, "replayed") + " dead letter(s) of " +
                   text_at(v, "pipeline") + "\n";
        };
        s.print(s.client().call("POST", dead_letters_path(*replay_pipeline) + "/replay"), render);
        return exit_ok;
    });

    auto* purge = group->add_subcommand("purge", "delete a pipeline's dead letters");
    auto purge_pipeline = std::make_shared<std::string>();
    purge->add_option("pipeline", *purge_pipeline, "the pipeline's id")->required();
    s.on_run(purge, [&s, purge_pipeline] {
        auto render = [](const json::value& v, std::size_t) {
            return "purged " + text_at(v, "purged") + " dead letter(s) of " +
                   text_at(v, "pipeline") + "\n";
        };
        s.print(s.client().call("DELETE", dead_letters_path(*purge_pipeline)), render);
        return exit_ok;
    });
}

}  // namespace laredo::cli
