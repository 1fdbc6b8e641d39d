#include "laredo/deadletter/local_store.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "letters.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace laredo::deadletter {
namespace {

using namespace testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

const local_store_options no_fsync{0, false};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
}

std::vector<std::string> lines_of(const std::string& content) {
    std::vector<std::string> out;
    std::stringstream s(content);
    for (std::string line; std::getline(s, line);) out.push_back(line);
    return out;
}

// Seals a hand-made record the way the store does: CRC-32C of the object without its "crc".
std::string sealed(boost::json::object o) {
    std::string body = boost::json::serialize(o);
    o["crc"] = fmt::format("{:08x}", json::crc32c(body));
    return boost::json::serialize(o) + "\n";
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

TEST(local_store, letters_survive_reopening_and_sequences_continue) {
    temp_dir dir;
    auto wide = letter_with_every_kind_of_value("pg:public.wide");
    {
        local_store store(dir.path());  // default options: fsync on
        store.write(letter("pg:public.users", 1));
        store.write(letter("pg:public.users", 2));
        wide.sequence = store.write(wide);
    }
    local_store store(dir.path(), no_fsync);
    EXPECT_THAT(store.pipelines(), ElementsAre("pg:public.users", "pg:public.wide"));
    EXPECT_EQ(store.count("pg:public.users"), 2u);
    const auto back = store.list("pg:public.wide");
    ASSERT_EQ(back.size(), 1u);
    expect_same_letter(wide, back[0]);
    EXPECT_EQ(store.write(letter("pg:public.users", 3)), 3u);
    EXPECT_EQ(store.bytes_used(), fs::file_size(dir.path() / "pg%3Apublic.users.jsonl") +
                                      fs::file_size(dir.path() / "pg%3Apublic.wide.jsonl"));
}

TEST(local_store, sequences_continue_after_every_letter_was_removed_and_the_store_reopened) {
    temp_dir dir;
    {
        local_store store(dir.path(), no_fsync);
        for (int i = 1; i <= 3; ++i) store.write(letter("p", i));
        store.remove_through("p", 3);
        EXPECT_EQ(store.count("p"), 0u);
    }
    local_store store(dir.path(), no_fsync);
    EXPECT_TRUE(store.pipelines().empty());
    EXPECT_EQ(store.write(letter("p", 4)), 4u);
}

TEST(local_store, writes_one_checksummed_json_line_per_letter) {
    temp_dir dir;
    local_store store(dir.path(), no_fsync);
    store.write(letter("pg:public.users", 1));
    store.write(letter("pg:public.users", 2));
    const auto lines = lines_of(read_file(dir.path() / "pg%3Apublic.users.jsonl"));
    ASSERT_EQ(lines.size(), 2u);
    for (const auto& line : lines) {
        auto o = json::parse(line).as_object();
        EXPECT_EQ(o.at("v").as_int64(), 1);
        EXPECT_EQ(o.at("pipeline").as_string(), "pg:public.users");
        EXPECT_EQ(o.at("error_code").as_string(), "laredo:target_failed");
        EXPECT_EQ(o.at("attempts").as_int64(), 3);
        EXPECT_TRUE(o.at("change").as_object().contains("new_values"));
        ASSERT_TRUE(line.ends_with("\"}"));
        // The documented rule: CRC-32C of the line without its crc member.
        const std::string crc(o.at("crc").as_string());
        o.erase("crc");
        EXPECT_EQ(crc, fmt::format("{:08x}", json::crc32c(boost::json::serialize(o))));
    }
    EXPECT_EQ(json::parse(lines[1]).at("sequence").as_int64(), 2);
    EXPECT_EQ(json::parse(lines[1]).at("position").as_string(), "0/16B3748:2");
}

TEST(local_store, a_torn_last_line_is_skipped_and_the_next_write_reads_back) {
    temp_dir dir;
    const fs::path file = dir.path() / "p.jsonl";
    {
        local_store store(dir.path(), no_fsync);
        for (int i = 1; i <= 3; ++i) store.write(letter("p", i));
    }
    // Power loss in the middle of the third line.
    const auto content = read_file(file);
    write_file(file, content.substr(0, content.size() - 40));

    local_store store(dir.path(), no_fsync);
    EXPECT_EQ(store.count("p"), 2u);
    EXPECT_EQ(store.corrupt_lines("p"), 1u);
    auto next = letter("p", 4, "after the crash");
    next.sequence = store.write(next);
    EXPECT_EQ(next.sequence, 3u);  // the torn letter's write never returned
    const auto all = store.list("p");
    ASSERT_EQ(all.size(), 3u);
    expect_same_letter(next, all[2]);
    EXPECT_EQ(store.corrupt_lines("p"), 1u);

    // Reopened again, the same letters are there, and the fragment goes with a rewrite.
    local_store again(dir.path(), no_fsync);
    EXPECT_EQ(again.count("p"), 3u);
    again.remove_through("p", 1);
    EXPECT_EQ(again.corrupt_lines("p"), 0u);
    EXPECT_EQ(again.count("p"), 2u);
    EXPECT_THAT(again.list("p").back().change.new_values[1], value("after the crash"));
}

TEST(local_store, a_last_line_missing_only_its_newline_is_kept) {
    temp_dir dir;
    const fs::path file = dir.path() / "p.jsonl";
    {
        local_store store(dir.path(), no_fsync);
        store.write(letter("p", 1));
        store.write(letter("p", 2));
    }
    auto content = read_file(file);
    content.pop_back();
    write_file(file, content);
    local_store store(dir.path(), no_fsync);
    EXPECT_EQ(store.count("p"), 2u);
    EXPECT_EQ(store.write(letter("p", 3)), 3u);
    EXPECT_EQ(store.list("p").size(), 3u);
    EXPECT_EQ(store.corrupt_lines("p"), 0u);
}

TEST(local_store, a_corrupted_middle_line_is_skipped_and_the_others_remain) {
    temp_dir dir;
    const fs::path file = dir.path() / "p.jsonl";
    {
        local_store store(dir.path(), no_fsync);
        for (int i = 1; i <= 3; ++i) store.write(letter("p", i, "name" + std::to_string(i)));
    }
    auto content = read_file(file);
    const auto second = content.find('\n') + 1;
    const auto at = content.find("name2", second);
    ASSERT_NE(at, std::string::npos);
    content[at] = 'N';  // one flipped byte, still valid JSON: only the checksum notices
    write_file(file, content);

    local_store store(dir.path(), no_fsync);
    const auto all = store.list("p");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].sequence, 1u);
    EXPECT_EQ(all[1].sequence, 3u);
    EXPECT_EQ(store.count("p"), 2u);
    EXPECT_EQ(store.corrupt_lines("p"), 1u);
    EXPECT_EQ(store.write(letter("p", 4)), 4u);
}

TEST(local_store, hostile_pipeline_ids_stay_inside_the_directory) {
    temp_dir root;
    const fs::path dir = root.path() / "letters";
    const std::vector<std::string> ids = {"../x",  "a/b", "..",         ".",          "/etc/passwd",
                                          "..\\y", "%2E", "with space", "caf\xC3\xA9"};
    {
        local_store store(dir, no_fsync);
        for (const auto& id : ids) store.write(letter(id, 1));
        EXPECT_EQ(store.pipelines().size(), ids.size());
    }
    EXPECT_THAT(entries(root.path()), ElementsAre("letters"));
    for (const auto& name : entries(dir)) {
        EXPECT_NE(name.front(), '.') << name;
        EXPECT_EQ(name.find('/'), std::string::npos) << name;
        EXPECT_TRUE(fs::is_regular_file(dir / name)) << name;
    }
    EXPECT_EQ(local_store::file_name("../x"), "%2E.%2Fx.jsonl");
    EXPECT_EQ(local_store::file_name("pg:public.users"), "pg%3Apublic.users.jsonl");
    local_store store(dir, no_fsync);
    const auto listed = store.pipelines();
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
              std::set<std::string>(ids.begin(), ids.end()));
    for (const auto& id : ids) {
        EXPECT_EQ(local_store::pipeline_of(local_store::file_name(id)), id);
        ASSERT_EQ(store.list(id).size(), 1u) << id;
        EXPECT_EQ(store.list(id)[0].pipeline_id, id);
    }
}

TEST(local_store, file_names_that_are_not_ours_are_ignored) {
    for (std::string_view name : {"notes.txt", ".hidden.jsonl", "%41.jsonl", "a%2.jsonl",
                                  "a%2f.jsonl", ".jsonl", "a:b.jsonl", "%ZZ.jsonl"}) {
        EXPECT_EQ(local_store::pipeline_of(name), "") << name;
    }
    temp_dir dir;
    write_file(dir.path() / "notes.txt", "hello\n");
    write_file(dir.path() / ".p.jsonl.tmp", "half a rewrite");
    local_store store(dir.path(), no_fsync);
    EXPECT_TRUE(store.pipelines().empty());
    EXPECT_THAT(entries(dir.path()), ElementsAre("notes.txt"));  // the leftover temp is gone
}

TEST(local_store, refuses_ids_it_cannot_store) {
    temp_dir dir;
    local_store store(dir.path(), no_fsync);
    for (const std::string& id : {std::string("bad \xFF"), std::string(100, ':')}) {
        const auto [code, message] = failure_of([&] { store.write(letter(id, 1)); });
        EXPECT_EQ(code, errc::invalid_argument);
        EXPECT_THAT(message, HasSubstr("pipeline id"));
    }
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(local_store, a_record_of_an_unknown_format_version_is_refused_naming_file_and_line) {
    temp_dir dir;
    {
        local_store store(dir.path(), no_fsync);
        store.write(letter("p", 1));
        store.write(letter("q", 1));
    }
    // A newer laredo appended a version 2 record (valid checksum).
    boost::json::object future{{"v", 2}, {"sequence", 2}, {"pipeline", "p"}, {"what", "new"}};
    std::ofstream(dir.path() / "p.jsonl", std::ios::app) << sealed(future);

    local_store store(dir.path(), no_fsync);
    for (const auto& op : std::vector<std::function<void()>>{
             [&] { store.list("p"); }, [&] { store.count("p"); },
             [&] { store.write(letter("p", 3)); }, [&] { store.remove_through("p", 1); }}) {
        const auto [code, message] = failure_of(op);
        EXPECT_EQ(code, errc::corrupt_data);
        EXPECT_THAT(message, HasSubstr((dir.path() / "p.jsonl").string() + " line 2"));
        EXPECT_THAT(message, HasSubstr("format version 2"));
    }
    // The other pipeline is unaffected, the refused one is listed, and purge clears it.
    EXPECT_EQ(store.count("q"), 1u);
    EXPECT_THAT(store.pipelines(), ElementsAre("p", "q"));
    EXPECT_EQ(store.purge("p"), 1u);
    EXPECT_EQ(store.write(letter("p", 3)), 2u);  // after the last letter this store could read
    EXPECT_EQ(store.list("p").size(), 1u);
}

TEST(local_store, a_record_of_another_pipeline_is_refused) {
    temp_dir dir;
    {
        local_store store(dir.path(), no_fsync);
        store.write(letter("p", 1));
    }
    fs::copy_file(dir.path() / "p.jsonl", dir.path() / "q.jsonl");
    local_store store(dir.path(), no_fsync);
    EXPECT_EQ(store.count("p"), 1u);
    const auto [code, message] = failure_of([&] { store.list("q"); });
    EXPECT_EQ(code, errc::corrupt_data);
    EXPECT_THAT(message, HasSubstr("written for pipeline \"p\", not \"q\""));
}

TEST(local_store, remove_through_rewrites_the_file_atomically) {
    temp_dir dir;
    local_store store(dir.path());  // fsync on: the rename path with directory syncs
    for (int i = 1; i <= 4; ++i) store.write(letter("p", i));
    const auto before = store.bytes_used();
    store.remove_through("p", 2);
    EXPECT_THAT(entries(dir.path()), ElementsAre("p.jsonl"));  // no temporary file left
    const auto lines = lines_of(read_file(dir.path() / "p.jsonl"));
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(json::parse(lines[0]).at("header").as_bool());
    EXPECT_EQ(json::parse(lines[0]).at("next_sequence").as_int64(), 5);
    EXPECT_LT(store.bytes_used(), before);
    EXPECT_EQ(store.bytes_used(), fs::file_size(dir.path() / "p.jsonl"));
    EXPECT_EQ(store.purge("p"), 2u);
    EXPECT_TRUE(entries(dir.path()).empty());
    EXPECT_EQ(store.bytes_used(), 0u);
}

TEST(local_store, the_byte_limit_counts_files_found_when_opening) {
    temp_dir dir;
    std::uint64_t used = 0;
    {
        local_store store(dir.path(), no_fsync);
        store.write(letter("p", 1));
        store.write(letter("q", 1));
        used = store.bytes_used();
    }
    local_store store(dir.path(), local_store_options{used + 10, false});
    EXPECT_EQ(store.bytes_used(), used);
    const auto [code, message] = failure_of([&] { store.write(letter("r", 1)); });
    EXPECT_EQ(code, errc::buffer_overflow);
    EXPECT_THAT(message, HasSubstr(dir.path().string()));
    EXPECT_TRUE(store.list("r").empty());
}

TEST(local_store, positions_round_trip_byte_for_byte_and_error_texts_are_made_utf8) {
    temp_dir dir;
    local_store store(dir.path(), no_fsync);
    auto l = letter("p", 1);
    l.position = std::string("shard-\xFF\x00:42", 11);
    l.error_message = "bad byte \xC3 here";
    store.write(l);
    const auto back = store.list("p");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].position, l.position);
    EXPECT_EQ(back[0].error_message, "bad byte \xEF\xBF\xBD here");
    EXPECT_TRUE(json::is_valid_utf8(read_file(dir.path() / "p.jsonl")));
}

TEST(local_store, io_failures_are_laredo_errors_with_the_system_code) {
    temp_dir dir;
    write_file(dir.path() / "taken", "a file, not a directory");
    try {
        local_store store(dir.path() / "taken" / "letters", no_fsync);
        ADD_FAILURE() << "opened a store below a regular file";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code().category(), boost::system::system_category());
        EXPECT_THAT(e.what(), HasSubstr("cannot create directory"));
    }
}

}  // namespace
}  // namespace laredo::deadletter
