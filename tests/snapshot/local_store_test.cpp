#include "laredo/snapshot/local_store.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "snapshot_test_support.hpp"

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace laredo::snapshots {
namespace {

namespace fs = std::filesystem;
using namespace laredo::snapshots::testing;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using clock_type = std::chrono::system_clock;

const clock_type::time_point t0 = clock_type::time_point{} + 1'700'000'000s;

snapshot make_snapshot(std::string id, clock_type::time_point created_at,
                       std::vector<snapshot_table> tables = {}) {
    snapshot s;
    s.descriptor.id = std::move(id);
    s.descriptor.created_at = created_at;
    s.tables = std::move(tables);
    return s;
}

snapshot every_kind_snapshot(std::string id = "snap-1") {
    auto s = make_snapshot(std::move(id), t0 + 123456us, {every_kind_table()});
    s.descriptor.labels = {{"trigger", "manual"}, {"note", "caf\xc3\xa9 \"quoted\""}};
    s.descriptor.source_positions = {{"pg", "0/16B3748:3"}};
    return s;
}

// Runs `f` and returns the laredo::error it throws.
laredo::error error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const laredo::error& e) {
        return e;
    }
    ADD_FAILURE() << "no error was thrown";
    return laredo::error(errc::transient, "no error");
}

// Edits metadata.json of a snapshot as JSON.
void edit_metadata(const fs::path& dir, const std::function<void(boost::json::object&)>& edit) {
    auto jv = boost::json::parse(read_all(dir / "metadata.json"));
    edit(jv.as_object());
    write_all(dir / "metadata.json", boost::json::serialize(jv));
}

// Replaces a table file and updates its size and checksum in metadata.json, so the damage
// reaches the serializer's own checks.
void rewrite_table_file(const fs::path& dir, std::size_t index, const std::string& content) {
    edit_metadata(dir, [&](boost::json::object& m) {
        auto& t = m.at("tables").as_array().at(index).as_object();
        write_all(dir / std::string(t.at("file").as_string()), content);
        const auto old_size = t.at("size_bytes").to_number<std::uint64_t>();
        t["size_bytes"] = content.size();
        t["crc32c"] = json::to_hex(json::crc32c(content));
        m["size_bytes"] = m.at("size_bytes").to_number<std::uint64_t>() - old_size + content.size();
    });
}

std::string table_file(const fs::path& dir, std::size_t index) {
    auto jv = boost::json::parse(read_all(dir / "metadata.json"));
    return std::string(jv.at("tables").as_array().at(index).at("file").as_string());
}

std::vector<std::string> ids_of(const std::vector<snapshot_descriptor>& ds) {
    std::vector<std::string> ids;
    for (const auto& d : ds) ids.push_back(d.id);
    return ids;
}

class local_store_test : public ::testing::Test {
  protected:
    temp_dir dir_;
    fs::path base_ = dir_.path() / "snapshots";
    local_store store_{base_};
};

TEST_F(local_store_test, save_then_load_round_trips_every_value_kind) {
    const auto s = every_kind_snapshot();
    const auto saved = store_.save(s);
    const auto loaded = store_.load("snap-1");

    ASSERT_EQ(loaded.tables.size(), 1u);
    expect_same_table(s.tables[0], loaded.tables[0]);
    EXPECT_EQ(loaded.descriptor.id, "snap-1");
    EXPECT_EQ(loaded.descriptor.created_at, s.descriptor.created_at);
    EXPECT_EQ(loaded.descriptor.labels, s.descriptor.labels);
    EXPECT_EQ(loaded.descriptor.source_positions, s.descriptor.source_positions);
    EXPECT_EQ(loaded.descriptor.format, "jsonl");
    EXPECT_EQ(loaded.descriptor.row_count, 5u);
    EXPECT_EQ(saved.row_count, 5u);
    EXPECT_GT(saved.size_bytes, 0u);
    EXPECT_EQ(loaded.descriptor.size_bytes, saved.size_bytes);
    ASSERT_EQ(saved.tables.size(), 1u);
    const auto& summary = saved.tables[0];
    EXPECT_EQ(summary.pipeline_id, "pg:public.kinds:memory.indexed");
    EXPECT_EQ(summary.source_id, "pg");
    EXPECT_EQ(summary.table, (table_identifier{"public", "kinds"}));
    EXPECT_EQ(summary.target_type, "memory.indexed");
    EXPECT_EQ(summary.position, "0/16B3748:3");
    EXPECT_EQ(summary.row_count, 5u);
    EXPECT_EQ(summary.schema_fingerprint, every_kind_schema()->fingerprint());
    EXPECT_EQ(summary.size_bytes, saved.size_bytes);
}

TEST_F(local_store_test, positions_round_trip_exactly) {
    const std::vector<std::string> positions = {
        "0/16B3748:3",
        "42",
        "",
        "FFFFFFFF/FFFFFFFF:18446744073709551615",
        R"({"shard-1":"4959\"quoted\"","sh\u00e4rd":"\u2713"})",
        "unicode \xe2\x9c\x93 \xf0\x9f\x98\x80"};
    auto s = make_snapshot("positions", t0);
    const auto schema = row_schema::make({column("id", "int8", 1)});
    for (std::size_t i = 0; i < positions.size(); ++i) {
        s.tables.push_back(make_table("src:public.t" + std::to_string(i) + ":memory", "src",
                                      {"public", "t" + std::to_string(i)}, "memory", positions[i],
                                      {row(schema, {1})}));
        s.descriptor.source_positions["src" + std::to_string(i)] = positions[i];
    }
    store_.save(s);
    const auto loaded = store_.load("positions");
    ASSERT_EQ(loaded.tables.size(), positions.size());
    for (std::size_t i = 0; i < positions.size(); ++i) {
        EXPECT_EQ(loaded.tables[i].position, positions[i]);
        EXPECT_EQ(loaded.descriptor.source_positions.at("src" + std::to_string(i)), positions[i]);
        EXPECT_EQ(store_.describe("positions").tables[i].position, positions[i]);
    }
}

TEST_F(local_store_test, two_pipelines_on_the_same_table_are_kept_apart) {
    const auto schema = row_schema::make({column("id", "int8", 1), column("name", "text")});
    const std::vector<row> memory_rows{row(schema, {1, "ann"}), row(schema, {2, "bob"})};
    const std::vector<row> http_rows{row(schema, {1, "ann"})};
    auto s = make_snapshot("two", t0,
                           {make_table("pg:public.users:memory.indexed", "pg", {"public", "users"},
                                       "memory.indexed", "0/10:1", memory_rows),
                            make_table("pg:public.users:httpsync", "pg", {"public", "users"},
                                       "httpsync", "0/8", http_rows)});
    const auto saved = store_.save(s);
    const auto loaded = store_.load("two");

    ASSERT_EQ(loaded.tables.size(), 2u);
    expect_same_table(s.tables[0], loaded.tables[0]);
    expect_same_table(s.tables[1], loaded.tables[1]);
    EXPECT_EQ(saved.row_count, 3u);
    // Two files, neither overwriting the other.
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(base_ / "two")) {
        files.push_back(e.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    EXPECT_THAT(files, ElementsAre("0001-pg_public.users_memory.indexed.jsonl",
                                   "0002-pg_public.users_httpsync.jsonl", "metadata.json"));
}

TEST_F(local_store_test, file_names_from_hostile_pipeline_ids_stay_inside_the_snapshot) {
    const auto schema = row_schema::make({column("id", "int8", 1)});
    auto s = make_snapshot(
        "hostile", t0,
        {make_table("../../escape:/etc/passwd", "s", {"public", "a"}, "t", "1", {row(schema, {1})}),
         make_table("..", "s", {"public", "b"}, "t", "2", {row(schema, {2})}),
         make_table(std::string(500, 'x'), "s", {"public", "c"}, "t", "3", {row(schema, {3})})});
    store_.save(s);
    std::size_t count = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
        if (e.is_regular_file()) {
            EXPECT_EQ(e.path().parent_path(), base_ / "hostile") << e.path();
            ++count;
        }
    }
    EXPECT_EQ(count, 4u);
    const auto loaded = store_.load("hostile");
    ASSERT_EQ(loaded.tables.size(), 3u);
    EXPECT_EQ(loaded.tables[0].pipeline_id, "../../escape:/etc/passwd");
    EXPECT_EQ(loaded.tables[2].pipeline_id, std::string(500, 'x'));
}

TEST_F(local_store_test, list_is_newest_first_by_created_at_then_id) {
    store_.save(make_snapshot("b-old", t0));
    store_.save(make_snapshot("a-new", t0 + 2s));
    store_.save(make_snapshot("c-tie", t0 + 1s));
    store_.save(make_snapshot("d-tie", t0 + 1s));
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("a-new", "d-tie", "c-tie", "b-old"));
}

TEST_F(local_store_test, list_of_a_missing_directory_is_empty) {
    EXPECT_FALSE(fs::exists(base_));
    EXPECT_TRUE(store_.list().empty());
}

TEST_F(local_store_test, created_at_keeps_microseconds_and_defaults_to_now) {
    const auto before = clock_type::now();
    const auto saved = store_.save(make_snapshot("now", clock_type::time_point{}));
    EXPECT_GE(saved.created_at, std::chrono::floor<std::chrono::microseconds>(before));
    EXPECT_LE(saved.created_at, clock_type::now());
    EXPECT_EQ(store_.describe("now").created_at, saved.created_at);

    store_.save(make_snapshot("micro", t0 + 999999us + 999ns));
    EXPECT_EQ(store_.describe("micro").created_at, t0 + 999999us);
    const auto meta = boost::json::parse(read_all(base_ / "micro" / "metadata.json"));
    EXPECT_EQ(meta.at("created_at").as_string(), "2023-11-14T22:13:20.999999Z");
}

TEST_F(local_store_test, describe_returns_what_save_returned) {
    const auto saved = store_.save(every_kind_snapshot());
    const auto d = store_.describe("snap-1");
    EXPECT_EQ(d.id, saved.id);
    EXPECT_EQ(d.created_at, saved.created_at);
    EXPECT_EQ(d.labels, saved.labels);
    EXPECT_EQ(d.source_positions, saved.source_positions);
    EXPECT_EQ(d.row_count, saved.row_count);
    EXPECT_EQ(d.size_bytes, saved.size_bytes);
    EXPECT_EQ(d.format, "jsonl");
    ASSERT_EQ(d.tables.size(), 1u);
    EXPECT_EQ(d.tables[0].schema_fingerprint, saved.tables[0].schema_fingerprint);
    EXPECT_EQ(d.tables[0].size_bytes, saved.tables[0].size_bytes);

    const auto e = error_of([&] { store_.describe("nope"); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_THAT(e.what(), HasSubstr("unknown snapshot \"nope\""));
}

TEST_F(local_store_test, remove_deletes_and_refuses_unknown_ids) {
    store_.save(make_snapshot("one", t0));
    store_.save(make_snapshot("two", t0 + 1s));
    store_.remove("one");
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("two"));
    EXPECT_FALSE(fs::exists(base_ / "one"));

    const auto e = error_of([&] { store_.remove("one"); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_THAT(e.what(), HasSubstr("unknown snapshot \"one\""));
    EXPECT_EQ(error_of([&] { store_.load("one"); }).code(),
              make_error_code(errc::invalid_argument));
    // The id is free again.
    store_.save(make_snapshot("one", t0 + 5s));
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("one", "two"));
}

TEST_F(local_store_test, prune_keeps_the_newest) {
    for (int i = 0; i < 5; ++i) store_.save(make_snapshot("s" + std::to_string(i), t0 + i * 1s));
    EXPECT_THAT(store_.prune(2), ElementsAre("s2", "s1", "s0"));
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("s4", "s3"));
    EXPECT_TRUE(store_.prune(2).empty());
    EXPECT_THAT(store_.prune(0), ElementsAre("s4", "s3"));
    EXPECT_TRUE(store_.list().empty());
}

TEST_F(local_store_test, a_save_cut_short_before_the_rename_is_never_listed) {
    store_.save(every_kind_snapshot("done"));
    // What a crash between writing metadata.json and the rename leaves: a complete folder under
    // its temporary name.
    fs::copy(base_ / "done", base_ / ".tmp-crashed", fs::copy_options::recursive);
    edit_metadata(base_ / ".tmp-crashed", [](auto& m) { m["id"] = "crashed"; });
    fs::create_directory(base_ / ".tmp-x");

    EXPECT_THAT(ids_of(store_.list()), ElementsAre("done"));
    EXPECT_EQ(error_of([&] { store_.load("crashed"); }).code(),
              make_error_code(errc::invalid_argument));

    // A new store (the process restarted) removes the leftovers.
    local_store restarted(base_);
    EXPECT_FALSE(fs::exists(base_ / ".tmp-crashed"));
    EXPECT_FALSE(fs::exists(base_ / ".tmp-x"));
    EXPECT_THAT(ids_of(restarted.list()), ElementsAre("done"));
    restarted.save(make_snapshot("crashed", t0));
    EXPECT_NO_THROW(restarted.load("crashed"));
}

TEST_F(local_store_test, list_skips_entries_that_are_not_snapshots) {
    store_.save(make_snapshot("good", t0));
    fs::create_directory(base_ / "no-metadata");
    fs::create_directory(base_ / "garbage");
    write_all(base_ / "garbage" / "metadata.json", "{not json");
    fs::create_directory(base_ / "other-id");
    fs::copy(base_ / "good" / "metadata.json", base_ / "other-id" / "metadata.json");
    write_all(base_ / "plain-file", "x");
    fs::create_directory(base_ / "has space");

    EXPECT_THAT(ids_of(store_.list()), ElementsAre("good"));
    const auto e = error_of([&] { store_.describe("garbage"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("snapshot \"garbage\": metadata.json: not JSON"));
    EXPECT_THAT(error_of([&] { store_.load("no-metadata"); }).what(),
                HasSubstr("metadata.json is missing"));
    EXPECT_THAT(error_of([&] { store_.load("other-id"); }).what(),
                HasSubstr("it names snapshot \"good\""));
}

TEST_F(local_store_test, a_truncated_table_file_is_rejected) {
    store_.save(every_kind_snapshot());
    const auto file = base_ / "snap-1" / table_file(base_ / "snap-1", 0);
    const auto content = read_all(file);
    write_all(file, content.substr(0, content.size() - 40));
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(),
                HasSubstr("snapshot \"snap-1\": 0001-pg_public.kinds_memory.indexed.jsonl"));
    EXPECT_THAT(e.what(), HasSubstr("size mismatch"));

    // Truncated and the metadata made to agree: the format's own checks still see it.
    rewrite_table_file(base_ / "snap-1", 0, content.substr(0, content.size() - 40));
    const auto deeper = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(deeper.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(deeper.what(), HasSubstr("truncated"));
}

TEST_F(local_store_test, a_flipped_byte_is_rejected) {
    store_.save(every_kind_snapshot());
    const auto file = base_ / "snap-1" / table_file(base_ / "snap-1", 0);
    for (const std::size_t at : {std::size_t{5}, std::size_t{2000}}) {
        auto content = read_all(file);
        const auto original = content;
        ASSERT_LT(at, content.size());
        content[at] = static_cast<char>(content[at] ^ 0x01);
        write_all(file, content);
        const auto e = error_of([&] { store_.load("snap-1"); });
        EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
        EXPECT_THAT(e.what(), HasSubstr("checksum mismatch")) << "byte " << at;
        write_all(file, original);
    }
    EXPECT_NO_THROW(store_.load("snap-1"));
}

TEST_F(local_store_test, a_wrong_row_count_is_rejected) {
    store_.save(every_kind_snapshot());
    edit_metadata(base_ / "snap-1", [](auto& m) {
        m.at("tables").as_array().at(0).as_object()["row_count"] = 4;
        m["row_count"] = 4;
    });
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(),
                HasSubstr("row count mismatch: metadata.json says 4 rows, the file has 5"));

    // The file's own trailer disagreeing with its rows.
    edit_metadata(base_ / "snap-1", [](auto& m) {
        m.at("tables").as_array().at(0).as_object()["row_count"] = 5;
        m["row_count"] = 5;
    });
    const auto file = base_ / "snap-1" / table_file(base_ / "snap-1", 0);
    auto content = read_all(file);
    content.replace(content.find("\"rows\":5"), 8, "\"rows\":6");
    rewrite_table_file(base_ / "snap-1", 0, content);
    EXPECT_THAT(error_of([&] { store_.load("snap-1"); }).what(),
                HasSubstr("row count mismatch: the trailer says 6 rows, the file has 5"));
}

TEST_F(local_store_test, a_mismatched_fingerprint_is_rejected) {
    store_.save(every_kind_snapshot());
    const auto fp = json::to_hex(every_kind_schema()->fingerprint());
    const auto other = json::to_hex(every_kind_schema()->fingerprint() + 1);
    edit_metadata(base_ / "snap-1", [&](auto& m) {
        m.at("tables").as_array().at(0).as_object()["schema_fingerprint"] = other;
    });
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::schema_mismatch));
    EXPECT_THAT(e.what(), HasSubstr("schema fingerprint mismatch: metadata.json says " + other));

    // A file whose header fingerprint is not that of its columns.
    edit_metadata(base_ / "snap-1", [&](auto& m) {
        m.at("tables").as_array().at(0).as_object()["schema_fingerprint"] = fp;
    });
    const auto file = base_ / "snap-1" / table_file(base_ / "snap-1", 0);
    auto content = read_all(file);
    content.replace(content.find(fp), fp.size(), other);
    rewrite_table_file(base_ / "snap-1", 0, content);
    const auto header = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(header.code(), make_error_code(errc::schema_mismatch));
    EXPECT_THAT(header.what(), HasSubstr("line 1: schema fingerprint " + other));
}

TEST_F(local_store_test, an_unknown_format_version_is_rejected) {
    store_.save(every_kind_snapshot());
    const auto file = base_ / "snap-1" / table_file(base_ / "snap-1", 0);
    auto content = read_all(file);
    content.replace(content.find("\"version\":1"), 11, "\"version\":9");
    rewrite_table_file(base_ / "snap-1", 0, content);
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("line 1: unknown format version 9"));

    edit_metadata(base_ / "snap-1", [](auto& m) { m["version"] = 2; });
    const auto meta = error_of([&] { store_.describe("snap-1"); });
    EXPECT_EQ(meta.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(meta.what(), HasSubstr("metadata.json: unknown format version 2"));
    EXPECT_TRUE(store_.list().empty());
}

TEST_F(local_store_test, a_missing_file_is_rejected) {
    store_.save(every_kind_snapshot());
    fs::remove(base_ / "snap-1" / table_file(base_ / "snap-1", 0));
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(),
                HasSubstr("the file of pipeline \"pg:public.kinds:memory.indexed\" is missing"));
}

TEST_F(local_store_test, a_file_name_outside_the_snapshot_is_refused) {
    store_.save(every_kind_snapshot());
    edit_metadata(base_ / "snap-1", [](auto& m) {
        m.at("tables").as_array().at(0).as_object()["file"] = "../snap-1/metadata.json";
    });
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("unsafe file"));
}

TEST_F(local_store_test, hostile_ids_are_rejected) {
    store_.save(make_snapshot("ok", t0));
    const std::vector<std::string> bad = {"",
                                          ".",
                                          "..",
                                          "../x",
                                          "a/b",
                                          ".hidden",
                                          ".tmp-ok",
                                          "a b",
                                          "a:b",
                                          "caf\xc3\xa9",
                                          std::string("a\0b", 3),
                                          "a\\b",
                                          std::string(201, 'x'),
                                          "/abs"};
    for (const auto& id : bad) {
        for (const auto& call : std::vector<std::function<void()>>{
                 [&] { store_.save(make_snapshot(id, t0)); }, [&] { store_.load(id); },
                 [&] { store_.describe(id); }, [&] { store_.remove(id); }}) {
            const auto e = error_of(call);
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << id;
            EXPECT_THAT(e.what(), HasSubstr("snapshot id")) << id;
        }
    }
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("ok"));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.path())) ++entries;
    EXPECT_EQ(entries, 1u);  // only base_
    EXPECT_NO_THROW(store_.save(make_snapshot("A.z_0-9", t0)));
}

TEST_F(local_store_test, saving_an_existing_id_is_rejected) {
    store_.save(every_kind_snapshot());
    const auto e = error_of([&] { store_.save(make_snapshot("snap-1", t0)); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_THAT(e.what(), HasSubstr("snapshot \"snap-1\" already exists"));
    expect_same_table(every_kind_table(), store_.load("snap-1").tables.at(0));
}

TEST_F(local_store_test, a_failed_save_leaves_nothing_behind) {
    auto s = every_kind_snapshot("failing");
    s.tables.push_back(every_kind_table());
    s.tables.back().rows.emplace_back(row_schema::make({column("x", "int8")}),
                                      std::vector<value>{1});
    const auto e = error_of([&] { store_.save(s); });
    EXPECT_EQ(e.code(), make_error_code(errc::schema_mismatch));
    EXPECT_TRUE(store_.list().empty());
    for (const auto& entry : fs::directory_iterator(base_)) ADD_FAILURE() << entry.path();
    s.tables.pop_back();
    EXPECT_NO_THROW(store_.save(s));

    auto bad_label = make_snapshot("labels", t0);
    bad_label.descriptor.labels["k"] = "\xff";
    EXPECT_EQ(error_of([&] { store_.save(bad_label); }).code(),
              make_error_code(errc::invalid_argument));
    auto bad_position = every_kind_snapshot("position");
    bad_position.tables[0].position = "0/1\xc3";
    const auto position_error = error_of([&] { store_.save(bad_position); });
    EXPECT_EQ(position_error.code(), make_error_code(errc::invalid_argument));
    EXPECT_THAT(position_error.what(), HasSubstr("a position is not valid UTF-8"));
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("failing"));
}

TEST_F(local_store_test, an_empty_snapshot_works) {
    auto s = make_snapshot("empty", t0);
    s.descriptor.labels = {{"trigger", "shutdown"}};
    const auto saved = store_.save(s);
    EXPECT_EQ(saved.row_count, 0u);
    EXPECT_EQ(saved.size_bytes, 0u);
    EXPECT_TRUE(saved.tables.empty());
    const auto loaded = store_.load("empty");
    EXPECT_TRUE(loaded.tables.empty());
    EXPECT_EQ(loaded.descriptor.labels, s.descriptor.labels);
    EXPECT_TRUE(loaded.descriptor.source_positions.empty());
    EXPECT_THAT(ids_of(store_.list()), ElementsAre("empty"));
}

TEST_F(local_store_test, a_snapshot_in_another_format_is_refused) {
    store_.save(every_kind_snapshot());
    edit_metadata(base_ / "snap-1", [](auto& m) { m["serializer"] = "parquet"; });
    const auto e = error_of([&] { store_.load("snap-1"); });
    EXPECT_EQ(e.code(), make_error_code(errc::unsupported));
    EXPECT_THAT(e.what(), HasSubstr("snapshot \"snap-1\" is in format \"parquet\""));
}

TEST_F(local_store_test, round_trips_a_table_of_100k_rows) {
    const auto schema = row_schema::make({column("id", "int8", 1), column("name", "text"),
                                          column("score", "float8"), column("at", "timestamptz"),
                                          column("note", "text")});
    std::vector<row> rows;
    rows.reserve(100'000);
    for (std::int64_t i = 0; i < 100'000; ++i) {
        rows.emplace_back(
            schema, std::vector<value>{i, "user-" + std::to_string(i), static_cast<double>(i) / 7.0,
                                       timestamptz_value{1'700'000'000'000'000 + i},
                                       std::string(100, 'a' + i % 26)});
    }
    auto s = make_snapshot("big", t0,
                           {make_table("pg:public.big:memory", "pg", {"public", "big"}, "memory",
                                       "0/FFFF:2", std::move(rows))});
    const auto saved = store_.save(s);
    EXPECT_EQ(saved.row_count, 100'000u);
    EXPECT_EQ(fs::file_size(base_ / "big" / table_file(base_ / "big", 0)), saved.size_bytes);
    const auto loaded = store_.load("big");
    ASSERT_EQ(loaded.tables.size(), 1u);
    EXPECT_EQ(loaded.tables[0].rows.size(), 100'000u);
    expect_same_rows(s.tables[0].rows, loaded.tables[0].rows);
}

TEST_F(local_store_test, concurrent_saves_and_lists_all_complete) {
    constexpr int threads = 4;
    constexpr int per_thread = 5;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto s = every_kind_snapshot("t" + std::to_string(t) + "-" + std::to_string(i));
                s.descriptor.created_at = t0 + std::chrono::seconds(t * per_thread + i);
                store_.save(s);
                const auto listed = store_.list();
                EXPECT_GE(listed.size(), static_cast<std::size_t>(i + 1));
            }
        });
    }
    for (auto& w : workers) w.join();
    const auto all = store_.list();
    EXPECT_EQ(all.size(), static_cast<std::size_t>(threads * per_thread));
    for (const auto& d : all) EXPECT_EQ(store_.load(d.id).tables.at(0).rows.size(), 5u);
}

}  // namespace
}  // namespace laredo::snapshots
