#include "laredo/snapshot/serializer.hpp"

#include "laredo/error.hpp"
#include "laredo/snapshot/jsonl_serializer.hpp"
#include "laredo/snapshot/local_store.hpp"
#include "snapshot_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::snapshots {
namespace {

using namespace laredo::snapshots::testing;
using ::testing::HasSubstr;

// Another format through the same interface: JSONL whose every byte is inverted, so a reader
// of plain JSONL cannot make sense of it.
class inverted_jsonl final : public serializer {
  public:
    std::string format() const override { return "inverted-jsonl"; }
    std::string file_extension() const override { return ".inv"; }

    void write(const snapshot_table& table, byte_sink& out) const override {
        struct inverting_sink final : byte_sink {
            explicit inverting_sink(byte_sink& to) : to_(to) {}
            void write(std::string_view bytes) override {
                std::string inverted(bytes);
                for (auto& c : inverted) c = static_cast<char>(~c);
                to_.write(inverted);
            }
            byte_sink& to_;
        } sink(out);
        jsonl_serializer{}.write(table, sink);
    }

    snapshot_table read(byte_source& in, std::string_view name) const override {
        struct inverting_source final : byte_source {
            explicit inverting_source(byte_source& from) : from_(from) {}
            std::size_t read(char* buffer, std::size_t size) override {
                const auto n = from_.read(buffer, size);
                for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>(~buffer[i]);
                return n;
            }
            byte_source& from_;
        } source(in);
        return jsonl_serializer{}.read(source, name);
    }
};

TEST(snapshot_serializer, a_store_uses_the_serializer_it_is_given) {
    temp_dir dir;
    local_store store(dir.path(), std::make_shared<inverted_jsonl>());
    snapshot s;
    s.descriptor.id = "inv";
    s.tables.push_back(every_kind_table());
    const auto saved = store.save(s);
    EXPECT_EQ(saved.format, "inverted-jsonl");
    EXPECT_TRUE(
        std::filesystem::exists(dir.path() / "inv" / "0001-pg_public.kinds_memory.indexed.inv"));
    expect_same_table(s.tables[0], store.load("inv").tables.at(0));
}

TEST(snapshot_serializer, a_store_refuses_snapshots_of_another_serializer) {
    temp_dir dir;
    local_store writer(dir.path(), std::make_shared<inverted_jsonl>());
    snapshot s;
    s.descriptor.id = "inv";
    s.tables.push_back(every_kind_table());
    writer.save(s);

    local_store reader(dir.path());
    EXPECT_EQ(reader.list().size(), 1u);
    try {
        reader.load("inv");
        FAIL() << "the load succeeded";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::unsupported));
        EXPECT_THAT(e.what(),
                    HasSubstr("is in format \"inverted-jsonl\"; this store reads \"jsonl\""));
    }
}

}  // namespace
}  // namespace laredo::snapshots
