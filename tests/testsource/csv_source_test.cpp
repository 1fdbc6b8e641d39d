// The CSV example source over real files in a temporary directory.
#include "csv_source.hpp"
#include "coro_test.hpp"

#include "laredo/testing/recording_handler.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace laredo::testing {
namespace {

using examples::csv_source;

const table_identifier users{"public", "users"};
const std::vector<table_identifier> just_users{users};
constexpr std::chrono::milliseconds poll{2};

source_config config_of_users() { return source_config{just_users}; }

// A directory of its own, removed afterwards.
class temp_dir {
  public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "csv_source_XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name, std::ios::binary | std::ios::trunc) << text;
    }
    void append(const std::string& text) const {
        std::ofstream(path_ / "changes.log", std::ios::binary | std::ios::app) << text;
    }
    std::uint64_t log_size() const { return std::filesystem::file_size(path_ / "changes.log"); }

  private:
    std::filesystem::path path_;
};

class csv : public threaded {
  protected:
    temp_dir dir;
    void SetUp() override {
        dir.write("public.users.csv",
                  "id,name,note\n"
                  "1,ann,plain\n"
                  "2,\"Smith, Bob\",\"says \"\"hi\"\"\"\n"
                  "3,cy,\"two\nlines\"\n");
    }
};
LAREDO_THREADED_SUITE(csv);

row user_row(const schema_ptr& schema, std::string id, std::string name, std::string note) {
    return row(schema, {std::move(id), std::move(name), std::move(note)});
}

TEST_P(csv, init_reads_the_header_and_keys_the_first_column) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        EXPECT_EQ(src.state(), source_state::closed);
        const auto schemas = co_await on_source(src, src.init(config_of_users()));
        EXPECT_EQ(src.state(), source_state::connected);
        const auto& columns = schemas.at(users);
        CO_ASSERT_EQ(columns.size(), 3u);
        EXPECT_EQ(columns[0].name, "id");
        EXPECT_TRUE(columns[0].primary_key);
        EXPECT_EQ(columns[0].primary_key_ordinal, 1);
        EXPECT_FALSE(columns[0].nullable);
        EXPECT_EQ(columns[2].name, "note");
        EXPECT_EQ(columns[2].type, "text");
        EXPECT_EQ(columns[2].ordinal_position, 3);
        EXPECT_FALSE(columns[2].primary_key);
        EXPECT_EQ(src.type_name(), "csv");
    });
}

TEST_P(csv, a_missing_table_file_fails_init_and_validation_naming_it) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        const table_identifier ghosts{"public", "ghosts"};
        const std::vector<table_identifier> tables{users, ghosts};
        const source_config config{tables};
        const auto f = co_await failure_of(on_source(src, src.init(config)));
        EXPECT_EQ(f.code, errc::unknown_table);
        EXPECT_NE(f.message.find("public.ghosts.csv"), std::string::npos) << f.message;
        EXPECT_EQ(src.state(), source_state::error);
        const auto errors = co_await on_source(src, src.validate_tables(tables));
        CO_ASSERT_EQ(errors.size(), 1u);
        EXPECT_EQ(errors[0].table, ghosts);
        EXPECT_EQ(errors[0].code, "TABLE_NOT_FOUND");
        EXPECT_NE(errors[0].message.find("public.ghosts.csv"), std::string::npos);
    });
}

TEST_P(csv, baseline_reads_every_row_with_rfc_4180_quoting_at_the_log_end) {
    run([&](io_context& ctx) -> awaitable<void> {
        dir.append("INSERT,public.users,id=9,name=old\n");
        csv_source src(ctx.get_executor(), dir.path(), poll);
        const auto schemas = co_await on_source(src, src.init(config_of_users()));
        recording_handler sink(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_EQ(at, position::from_sequence(dir.log_size()));
        const auto schema = row_schema::make(schemas.at(users));
        std::vector<row> expected{user_row(schema, "1", "ann", "plain"),
                                  user_row(schema, "2", "Smith, Bob", "says \"hi\""),
                                  user_row(schema, "3", "cy", "two\nlines")};
        std::vector<row> got;
        for (const auto& [table, r] : sink.rows()) got.push_back(r);
        EXPECT_EQ(got, expected);
        EXPECT_TRUE(sink.all_calls_on_expected_executor());
    });
}

TEST_P(csv, baseline_without_a_change_log_is_at_zero) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler sink(src.get_executor());
        EXPECT_EQ(co_await on_source(src, src.baseline(just_users, sink)),
                  position::from_sequence(0));
    });
}

TEST_P(csv, baseline_rejects_a_record_with_the_wrong_number_of_fields) {
    run([&](io_context& ctx) -> awaitable<void> {
        dir.write("public.users.csv", "id,name,note\n1,ann,x\n2,bob\n");
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler sink(src.get_executor());
        const auto f = co_await failure_of(on_source(src, src.baseline(just_users, sink)));
        EXPECT_EQ(f.code, errc::corrupt_data);
        EXPECT_NE(f.message.find("record 3: 2 fields, not 3"), std::string::npos) << f.message;
    });
}

TEST_P(csv, stream_delivers_each_action_appended_after_the_baseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        dir.append("INSERT,public.users,id=8,name=before\n");
        csv_source src(ctx.get_executor(), dir.path(), poll);
        const auto schemas = co_await on_source(src, src.init(config_of_users()));
        const auto schema = row_schema::make(schemas.at(users));
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream_runner stream(src, at, handler);

        dir.append("INSERT,public.users,id=4,name=dan,\"note=a, b\"\n");
        dir.append("INSERT,other.table,id=1\n");
        dir.append("UPDATE,public.users,id=4,name=daniel\r\n");
        dir.append("\n");
        dir.append("DELETE,public.users,id=1\n");
        dir.append("TRUNCATE,public.users\n");
        const auto end = dir.log_size();
        std::function<bool()> all = [&] { return handler.event_count() == 4; };
        EXPECT_TRUE(co_await eventually(all));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_FALSE(stream.failure());
        EXPECT_EQ(src.state(), source_state::connected);

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 4u);
        EXPECT_EQ(events[0].action, change_action::insert);
        EXPECT_EQ(events[0].new_values, user_row(schema, "4", "dan", "a, b"));
        EXPECT_EQ(events[1].action, change_action::update);
        EXPECT_EQ(events[1].new_values.at("name"), value("daniel"));
        EXPECT_TRUE(events[1].new_values.at("note").is_unchanged());
        EXPECT_EQ(events[2].action, change_action::delete_);
        EXPECT_EQ(events[2].identity().at("id"), value("1"));
        EXPECT_EQ(events[3].action, change_action::truncate);
        EXPECT_EQ(events[3].pos, position::from_sequence(end));
        for (std::size_t i = 0; i < events.size(); ++i) {
            EXPECT_EQ(events[i].table, users);
            EXPECT_GT(src.compare_positions(events[i].pos, i == 0 ? at : events[i - 1].pos), 0);
        }
        EXPECT_EQ(src.lag().lag_bytes, 0);
    });
}

TEST_P(csv, a_line_still_being_written_waits_for_its_newline) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        dir.append("INSERT,public.users,id=5,na");
        co_await sleep_for(std::chrono::milliseconds(30));
        EXPECT_EQ(handler.event_count(), 0u);
        EXPECT_GT(src.lag().lag_bytes.value_or(0), 0);
        dir.append("me=eve\n");
        std::function<bool()> one = [&] { return handler.event_count() == 1; };
        EXPECT_TRUE(co_await eventually(one));
        EXPECT_TRUE(co_await stream.cancel());
        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].new_values.at("name"), value("eve"));
    });
}

TEST_P(csv, a_malformed_line_fails_the_stream_naming_its_line_number) {
    run([&](io_context& ctx) -> awaitable<void> {
        dir.append("INSERT,public.users,id=8\nINSERT,public.users,id=9\n");
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream_runner stream(src, at, handler);
        dir.append("INSERT,public.users,id=10\nMERGE,public.users,id=11\n");
        EXPECT_TRUE(co_await stream.wait_done());
        const auto f = failure_of(stream.failure());
        EXPECT_EQ(f.code, errc::corrupt_data);
        EXPECT_NE(f.message.find("changes.log line 4: unknown action \"MERGE\""), std::string::npos)
            << f.message;
        EXPECT_EQ(src.state(), source_state::error);
        // The good line before the bad one was delivered first.
        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].new_values.at("id"), value("10"));
    });
}

TEST_P(csv, pause_stops_reading_until_resume) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        std::function<bool()> streaming = [&] { return src.state() == source_state::streaming; };
        EXPECT_TRUE(co_await eventually(streaming));
        co_await on_source(src, src.pause());
        EXPECT_EQ(src.state(), source_state::paused);
        dir.append("INSERT,public.users,id=5\n");
        co_await sleep_for(std::chrono::milliseconds(30));
        EXPECT_EQ(handler.event_count(), 0u);
        co_await on_source(src, src.resume());
        EXPECT_EQ(src.state(), source_state::streaming);
        std::function<bool()> one = [&] { return handler.event_count() == 1; };
        EXPECT_TRUE(co_await eventually(one));
        EXPECT_TRUE(co_await stream.cancel());
    });
}

TEST_P(csv, a_log_that_shrinks_below_the_position_demands_a_rebaseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        dir.append("INSERT,public.users,id=8\n");
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream_runner stream(src, at, handler);
        dir.write("changes.log", "");
        EXPECT_TRUE(co_await stream.wait_done());
        EXPECT_EQ(failure_of(stream.failure()).code, errc::rebaseline_required);
    });
}

TEST_P(csv, close_ends_a_running_stream) {
    run([&](io_context& ctx) -> awaitable<void> {
        csv_source src(ctx.get_executor(), dir.path(), poll);
        co_await on_source(src, src.init(config_of_users()));
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        co_await on_source(src, src.close());
        EXPECT_TRUE(co_await stream.wait_done());
        EXPECT_FALSE(stream.failure());
        EXPECT_EQ(src.state(), source_state::closed);
    });
}

TEST(csv_positions, byte_offsets_round_trip_and_malformed_strings_are_rejected) {
    io_context ctx;
    temp_dir dir;
    csv_source src(ctx.get_executor(), dir.path());
    EXPECT_EQ(src.position_to_string(position::from_sequence(1234)), "1234");
    EXPECT_EQ(src.position_from_string("1234"), position::from_sequence(1234));
    EXPECT_EQ(src.position_from_string(src.position_to_string(position{})), position{});
    EXPECT_LT(src.compare_positions(position::from_sequence(9), position::from_sequence(10)), 0);
    EXPECT_LT(src.compare_positions(position{}, position::from_sequence(0)), 0);
    EXPECT_EQ(src.compare_positions(position::from_sequence(3), position::from_sequence(3)), 0);
    for (const char* text : {"x", "-1", "1 ", "1:2", "99999999999999999999"}) {
        try {
            src.position_from_string(text);
            ADD_FAILURE() << text << " was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), errc::invalid_position);
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(src.supports_resume());
    EXPECT_EQ(src.ordering(), ordering_guarantee::total_order);
}

}  // namespace
}  // namespace laredo::testing
