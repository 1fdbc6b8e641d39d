#pragma once

// The type-erased body of compiled_target<T>: everything but the casts lives in a .cpp.

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/memory/detail/rw_lock.hpp"
#include "laredo/targets/memory/subscription.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>  // std::shared_lock
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::memory::detail {

class transaction_batcher;

using erased_object = std::shared_ptr<const void>;

struct compiled_core_options {
    std::function<erased_object(const row&)> compile;
    std::function<bool(const row&)> filter;
    std::vector<std::string> key_fields;
    std::size_t max_atomic_transaction_rows = 10'000;
};

class compiled_core {
  public:
    // Throws errc::invalid_config without a compiler or with max_atomic_transaction_rows 0.
    explicit compiled_core(compiled_core_options options);
    ~compiled_core();
    compiled_core(const compiled_core&) = delete;
    compiled_core& operator=(const compiled_core&) = delete;

    void init(const table_identifier& table, schema_ptr schema);
    void baseline_rows(const table_identifier& table, std::span<const row> rows);
    void baseline_complete(const table_identifier& table, const position& pos);
    void changes(const table_identifier& table, std::span<const change_event> changes);
    void begin_rebuild(const table_identifier& table);
    void commit_rebuild(const table_identifier& table);
    std::vector<row> export_rows(const table_identifier& table) const;
    void restore(const table_snapshot_info& info, std::vector<row> rows, const position& pos);

    std::optional<row> find(const row& identity) const;
    bool is_durable() const noexcept { return !holding_ && !mid_transaction_; }
    bool is_mid_transaction() const noexcept { return mid_transaction_; }
    std::optional<position> confirmed_position() const;
    std::optional<position> persisted_position() const;

    erased_object get(const std::vector<value>& key) const;
    std::size_t count() const;
    void for_each(const std::function<void(const erased_object&)>& fn) const;
    std::vector<erased_object> objects() const;
    std::uint64_t rejected_count() const noexcept { return rejected_.load(); }
    std::optional<std::string> last_error() const;
    schema_ptr schema() const;

    subscription listen(std::function<void(const void*, const void*)> fn);

  private:
    struct state;
    struct note {
        erased_object old_object;
        erased_object new_object;
    };

    void check_table(const table_identifier& table) const;
    void check_row(const row& r);
    state& write_state() noexcept;
    // Stores `r` (merged, complete as far as known) in `s`, replacing the entry with
    // identity `previous` (an update that may change the key) or the one with r's identity.
    void put(state& s, const row& r, const std::vector<value>* previous, std::vector<note>* notes);
    void remove(state& s, const std::vector<value>& identity, std::vector<note>* notes);
    void apply_change(state& s, const change_event& c, std::vector<note>* notes);
    std::vector<note> diff(const state& before, const state& after) const;
    void notify(const std::vector<note>& notes);
    void reject(const row& r, const std::string& why);
    std::unique_ptr<state> make_state() const;

    const compiled_core_options options_;
    table_identifier table_;
    bool initialized_ = false;
    std::vector<std::size_t> identity_columns_;
    std::vector<std::size_t> key_columns_;
    bool separate_keys_ = false;  // key fields differ from the identity columns

    mutable rw_lock mutex_;
    schema_ptr schema_;
    schema_ptr accepted_schema_;
    std::unique_ptr<state> live_;
    std::unique_ptr<state> shadow_;
    std::vector<std::unique_ptr<state>> garbage_;  // truncated contents, freed after unlocking

    std::unique_ptr<transaction_batcher> batcher_;
    std::atomic<bool> mid_transaction_{false};
    std::atomic<bool> holding_{false};

    mutable std::mutex status_mutex_;
    std::optional<position> applied_;
    std::optional<position> rebuild_applied_;
    std::optional<position> restored_;
    std::optional<std::string> last_error_;
    std::atomic<std::uint64_t> rejected_{0};

    std::shared_ptr<listener_registry<const void*, const void*>> listeners_;
};

}  // namespace laredo::targets::memory::detail
