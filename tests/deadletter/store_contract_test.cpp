// What every dead_letter_store does, run against both stores.

#include "laredo/deadletter/local_store.hpp"
#include "laredo/deadletter/memory_store.hpp"

#include "laredo/error.hpp"
#include "letters.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>

namespace laredo::deadletter {
namespace {

using namespace testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct memory_kind {
    static std::unique_ptr<dead_letter_store> make(const std::filesystem::path&,
                                                   std::uint64_t max_bytes = 0) {
        return std::make_unique<memory_store>(memory_store_options{max_bytes});
    }
};

struct local_kind {
    static std::unique_ptr<dead_letter_store> make(const std::filesystem::path& dir,
                                                   std::uint64_t max_bytes = 0) {
        // fsync off: these tests check content, not durability, and run on shared disks.
        return std::make_unique<local_store>(dir, local_store_options{max_bytes, false});
    }
};

template <class Kind>
class store_contract : public ::testing::Test {
  protected:
    temp_dir dir_;
    std::unique_ptr<dead_letter_store> store_ = Kind::make(dir_.path());
};

using store_kinds = ::testing::Types<memory_kind, local_kind>;
TYPED_TEST_SUITE(store_contract, store_kinds);

std::vector<std::uint64_t> sequences(const std::vector<dead_letter>& letters) {
    std::vector<std::uint64_t> out;
    for (const auto& l : letters) out.push_back(l.sequence);
    return out;
}

TYPED_TEST(store_contract, write_assigns_increasing_sequences_per_pipeline) {
    auto& store = *this->store_;
    EXPECT_EQ(store.write(letter("a", 1)), 1u);
    EXPECT_EQ(store.write(letter("a", 2)), 2u);
    EXPECT_EQ(store.write(letter("b:x.y", 3)), 1u);
    EXPECT_EQ(store.write(letter("a", 4)), 3u);
    EXPECT_EQ(store.count("a"), 3u);
    EXPECT_EQ(store.count("b:x.y"), 1u);
    EXPECT_EQ(store.count("nobody"), 0u);
    EXPECT_THAT(store.pipelines(), ElementsAre("a", "b:x.y"));
}

TYPED_TEST(store_contract, list_returns_letters_oldest_first_up_to_the_limit) {
    auto& store = *this->store_;
    for (int i = 1; i <= 5; ++i) store.write(letter("p", i, "row" + std::to_string(i)));
    const auto all = store.list("p");
    ASSERT_EQ(all.size(), 5u);
    EXPECT_THAT(sequences(all), ElementsAre(1, 2, 3, 4, 5));
    auto expected = letter("p", 3, "row3");
    expected.sequence = 3;
    expect_same_letter(expected, all[2]);
    EXPECT_THAT(sequences(store.list("p", 2)), ElementsAre(1, 2));
    EXPECT_TRUE(store.list("nobody").empty());
}

TYPED_TEST(store_contract, remove_through_keeps_later_letters_and_sequences_go_on) {
    auto& store = *this->store_;
    for (int i = 1; i <= 4; ++i) store.write(letter("p", i));
    store.write(letter("q", 9));
    store.remove_through("p", 2);
    EXPECT_THAT(sequences(store.list("p")), ElementsAre(3, 4));
    EXPECT_EQ(store.count("p"), 2u);
    store.remove_through("p", 4);
    EXPECT_EQ(store.count("p"), 0u);
    EXPECT_THAT(store.pipelines(), ElementsAre("q"));
    EXPECT_EQ(store.write(letter("p", 5)), 5u);  // never reused
    store.remove_through("nobody", 10);
    EXPECT_EQ(store.count("q"), 1u);
}

TYPED_TEST(store_contract, purge_removes_every_letter_of_one_pipeline) {
    auto& store = *this->store_;
    for (int i = 1; i <= 3; ++i) store.write(letter("p", i));
    store.write(letter("q", 1));
    EXPECT_EQ(store.purge("p"), 3u);
    EXPECT_EQ(store.count("p"), 0u);
    EXPECT_TRUE(store.list("p").empty());
    EXPECT_THAT(store.pipelines(), ElementsAre("q"));
    EXPECT_EQ(store.purge("p"), 0u);
    EXPECT_EQ(store.purge("nobody"), 0u);
    EXPECT_GT(store.write(letter("p", 4)), 0u);
    EXPECT_EQ(store.count("p"), 1u);
}

TYPED_TEST(store_contract, a_change_with_every_kind_of_value_round_trips) {
    auto& store = *this->store_;
    auto l = letter_with_every_kind_of_value("pg:public.wide");
    l.sequence = store.write(l);
    const auto back = store.list("pg:public.wide");
    ASSERT_EQ(back.size(), 1u);
    expect_same_letter(l, back[0]);
    EXPECT_TRUE(back[0].change.new_values[15].is_unchanged());
    EXPECT_TRUE(back[0].change.old_values[3].is_unchanged());
}

TYPED_TEST(store_contract, concurrent_writes_from_four_threads_are_all_kept) {
    auto& store = *this->store_;
    constexpr int per_thread = 50;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&store, t] {
            for (int i = 0; i < per_thread; ++i) store.write(letter("p", t * 1000 + i));
        });
    }
    for (auto& t : threads) t.join();
    const auto all = store.list("p");
    ASSERT_EQ(all.size(), 4u * per_thread);
    std::set<std::uint64_t> seqs;
    std::set<std::uint64_t> ids;
    for (const auto& l : all) {
        seqs.insert(l.sequence);
        ids.insert(l.change.transaction_id);
    }
    EXPECT_EQ(seqs.size(), all.size());
    EXPECT_EQ(ids.size(), all.size());
    EXPECT_EQ(*seqs.begin(), 1u);
    EXPECT_EQ(*seqs.rbegin(), 4u * per_thread);
    // Oldest first means in sequence order.
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.sequence < b.sequence;
    }));
}

TYPED_TEST(store_contract, a_write_past_the_byte_limit_is_refused_and_not_stored) {
    temp_dir dir;
    const auto probe = TypeParam::make(dir.path() / "probe");
    probe->write(letter("p", 1));
    // Room for exactly three letters of this size over all pipelines.
    std::uint64_t one = 0;
    if (auto* m = dynamic_cast<memory_store*>(probe.get())) one = m->bytes_used();
    if (auto* l = dynamic_cast<local_store*>(probe.get())) one = l->bytes_used();
    ASSERT_GT(one, 0u);
    const auto store = TypeParam::make(dir.path() / "limited", 3 * one + one / 2);
    store->write(letter("p", 1));
    store->write(letter("q", 2));
    store->write(letter("p", 3));
    const auto [code, message] = failure_of([&] { store->write(letter("q", 4)); });
    EXPECT_EQ(code, errc::buffer_overflow);
    EXPECT_THAT(message, HasSubstr(std::to_string(3 * one + one / 2) + " bytes"));
    EXPECT_EQ(store->count("q"), 1u);
    // Room again once letters are removed; the refused write consumed no sequence.
    store->purge("p");
    EXPECT_EQ(store->write(letter("q", 5)), 2u);
}

TYPED_TEST(store_contract, an_empty_pipeline_id_is_refused) {
    const auto [code, message] = failure_of([&] { this->store_->write(letter("", 1)); });
    EXPECT_EQ(code, errc::invalid_argument);
    EXPECT_THAT(message, HasSubstr("pipeline id"));
}

}  // namespace
}  // namespace laredo::deadletter
