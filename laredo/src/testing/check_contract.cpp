// all_operations_are_callable, init_reports_every_table_with_primary_key,
// unknown_table_is_an_error_naming_it.
#include "checks.hpp"

#include "laredo/row.hpp"

#include <algorithm>
#include <set>

namespace laredo::testing::detail {

using boost::asio::awaitable;

namespace {

awaitable<void> all_operations(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    auto src = co_await d.make_source();
    if (src->type_name().empty()) env.rep.fail("type_name() is empty");

    const source_config config{env.tables};
    const auto schemas = co_await attempt(d, "init", src->init(config));
    if (!schemas) co_return;  // nothing else can run without it
    if (auto problems = co_await attempt(d, "validate_tables", src->validate_tables(env.tables));
        problems && !problems->empty()) {
        std::vector<std::string> texts;
        for (const auto& p : *problems) texts.push_back(p.to_string());
        env.rep.fail("validate_tables reported problems for tables init accepted: " +
                     list_some(texts));
    }
    const auto at = co_await attempt(d, "baseline", src->baseline(env.tables, d.rec()));
    if (!at) co_return;

    d.start_stream(*at);
    co_await d.wait_streaming();
    co_await attempt(d, "pause", src->pause());
    co_await attempt(d, "resume", src->resume());
    (void)src->lag();
    const auto order = src->ordering();
    if (order > ordering_guarantee::best_effort)
        env.rep.fail(fmt::format("ordering() returned {}, not an ordering_guarantee",
                                 static_cast<int>(order)));
    (void)src->state();
    if (d.stream_done()) {
        env.rep.fail("stream() ended before it was cancelled: " +
                     (d.stream_error() ? describe(d.stream_error()) : std::string("returned")));
    }
    co_await d.cancel_stream();

    co_await attempt(d, "ack", src->ack(*at));
    (void)src->supports_resume();
    co_await attempt(d, "last_acked_position", src->last_acked_position());
    co_await attempt(d, "can_resume_from", src->can_resume_from(*at));
    try {
        if (src->compare_positions(*at, *at) != 0)
            env.rep.fail("compare_positions(p, p) is not 0 for the baseline's position");
        const auto text = src->position_to_string(*at);
        (void)src->position_from_string(text);
    } catch (...) {
        env.rep.fail("a position operation threw for the baseline's position " +
                     at->debug_string() + ": " + describe(std::current_exception()));
    }
    co_await attempt(d, "close", src->close());
}

awaitable<void> init_keys(case_env& env) {
    driver d(env);
    // One row per table, to see the key the rows carry.
    auto& fixture = env.fixture;
    const auto& tables = env.tables;
    const std::function<void()> add_one = [&fixture, &tables] {
        for (const auto& t : tables) fixture.add_row(t, 1);
    };
    co_await on_fixture(env, "the fixture's add_row", add_one);
    co_await d.make_source();
    const auto schemas = co_await d.init();

    std::map<table_identifier, schema_ptr> made;
    for (const auto& t : env.tables) {
        const auto name = t.to_string();
        const auto it = schemas.find(t);
        if (it == schemas.end()) {
            env.rep.fail(fmt::format("init did not report table {}", name));
            continue;
        }
        const auto& columns = it->second;
        if (columns.empty()) {
            env.rep.fail(fmt::format("init reported no columns for table {}", name));
            continue;
        }
        std::set<int> ordinals;
        std::vector<int> key_ordinals;
        for (const auto& c : columns) {
            if (c.ordinal_position != 0 && !ordinals.insert(c.ordinal_position).second)
                env.rep.fail(fmt::format("table {}: two columns have ordinal_position {}", name,
                                         c.ordinal_position));
            if (c.primary_key != (c.primary_key_ordinal > 0)) {
                env.rep.fail(fmt::format(
                    "table {} column {}: primary_key is {} but primary_key_ordinal is {} (a key "
                    "column has both, others neither)",
                    name, c.name, c.primary_key, c.primary_key_ordinal));
            }
            if (c.primary_key_ordinal > 0) key_ordinals.push_back(c.primary_key_ordinal);
        }
        if (key_ordinals.empty()) {
            env.rep.fail(fmt::format(
                "table {} has no key column (primary_key / primary_key_ordinal): the engine "
                "refuses a table without a key",
                name));
            continue;
        }
        std::sort(key_ordinals.begin(), key_ordinals.end());
        for (std::size_t i = 0; i < key_ordinals.size(); ++i) {
            if (key_ordinals[i] != static_cast<int>(i + 1)) {
                std::vector<std::string> got;
                for (int k : key_ordinals) got.push_back(std::to_string(k));
                env.rep.fail(fmt::format(
                    "table {}: primary_key_ordinal values are {}; expected 1..{}, one per key "
                    "column",
                    name, list_some(got, got.size()), key_ordinals.size()));
                break;
            }
        }
        try {
            made[t] = row_schema::make(columns);
        } catch (const std::exception& e) {
            env.rep.fail(
                fmt::format("table {}: the columns init reported do not make a row "
                            "schema: {}",
                            name, e.what()));
            continue;
        }
        const auto fixture_key = env.fixture.key_of(t, 1);
        if (fixture_key.size() != key_ordinals.size()) {
            env.rep.fail(
                fmt::format("table {} has {} key columns but the fixture's key_of gives {} values",
                            name, key_ordinals.size(), fixture_key.size()));
        }
    }

    // The rows carry the schema init reported, and their key is the one the fixture knows.
    const auto at = co_await d.baseline();
    (void)at;
    for (const auto& [table, r] : d.rec().rows()) {
        const auto it = made.find(table);
        if (it == made.end()) continue;
        if (!r.schema() || !(*r.schema() == *it->second)) {
            env.rep.fail(
                fmt::format("a baseline row of {} carries columns other than the ones "
                            "init reported",
                            table.to_string()));
            break;
        }
        if (r.key() != env.fixture.key_of(table, 1)) {
            env.rep.fail(fmt::format(
                "the baseline row of {} has key {} (by its key columns) but the fixture made "
                "row {}: key columns and primary_key_ordinal do not match the row's key",
                table.to_string(), describe_key(r.key()),
                describe_key(env.fixture.key_of(table, 1))));
        }
    }
    co_await d.close();
}

awaitable<void> unknown_table(case_env& env) {
    const table_identifier missing(env.tables.front().schema, "laredo_conformance_missing");
    const auto name = missing.to_string();
    std::vector<table_identifier> with_missing = env.tables;
    with_missing.push_back(missing);

    driver d(env);
    auto first = co_await d.make_source();
    std::exception_ptr failure;
    try {
        const source_config config{with_missing};
        const auto schemas = co_await d.on_source("init", first->init(config));
        env.rep.fail(
            fmt::format("init accepted the table {}, which does not exist (it reported "
                        "{} tables)",
                        name, schemas.size()));
    } catch (const check_aborted&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        // The table's own name is enough: a source may quote it ("public"."t") or add a path.
        const auto text = describe(failure);
        if (text.find(missing.table) == std::string::npos)
            env.rep.fail(
                fmt::format("init failed, but its error does not name {}: {}", name, text));
    }
    // The engine closes a source whose init failed.
    co_await attempt(d, "close after a failed init", first->close());

    auto second = co_await d.make_source();
    co_await d.init();
    const auto problems =
        co_await d.on_source("validate_tables", second->validate_tables(with_missing));
    bool named = false;
    for (const auto& p : problems) {
        if (p.table == missing) {
            named = true;
            if (p.code.empty())
                env.rep.fail(
                    fmt::format("validate_tables' error for {} has no code "
                                "(TABLE_NOT_FOUND...)",
                                name));
        } else if (!p.table ||
                   std::find(env.tables.begin(), env.tables.end(), *p.table) != env.tables.end()) {
            env.rep.fail("validate_tables reported a problem with a table that exists: " +
                         p.to_string());
        }
    }
    if (!named) {
        std::vector<std::string> texts;
        for (const auto& p : problems) texts.push_back(p.to_string());
        env.rep.fail(
            fmt::format("validate_tables did not report {}, which does not exist "
                        "(it reported: {})",
                        name, texts.empty() ? "nothing" : list_some(texts)));
    }
    co_await d.close();
}

}  // namespace

void check_all_operations_are_callable(case_env& env) {
    env.run([&env] { return all_operations(env); });
}

void check_init_reports_every_table_with_primary_key(case_env& env) {
    env.run([&env] { return init_keys(env); });
}

void check_unknown_table_is_an_error_naming_it(case_env& env) {
    env.run([&env] { return unknown_table(env); });
}

}  // namespace laredo::testing::detail
