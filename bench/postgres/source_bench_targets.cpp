#include "source_bench_targets.hpp"

#include "source_bench_support.hpp"

namespace laredo::bench::postgres {

using boost::asio::awaitable;

awaitable<void> counting_target::on_init(const table_identifier&, schema_ptr) { co_return; }
awaitable<void> counting_target::on_baseline_rows(const table_identifier&, std::span<const row>) {
    co_return;
}
awaitable<void> counting_target::on_baseline_complete(const table_identifier&, const position&) {
    co_return;
}
awaitable<void> counting_target::on_changes(const table_identifier&,
                                            std::span<const change_event>) {
    co_return;
}
awaitable<void> counting_target::on_insert(const table_identifier&, const change_event&) {
    co_return;
}
awaitable<void> counting_target::on_update(const table_identifier&, const change_event&) {
    co_return;
}
awaitable<void> counting_target::on_delete(const table_identifier&, const change_event&) {
    co_return;
}
awaitable<void> counting_target::on_truncate(const table_identifier&, const change_event&) {
    co_return;
}

measured_target::measured_target(std::shared_ptr<sync_target> inner, std::uint64_t expected,
                                 std::optional<position> resume_at)
    : inner_(std::move(inner)), expected_(expected), resume_at_(std::move(resume_at)) {}

void measured_target::count(std::size_t n) {
    const auto before = applied_.fetch_add(n);
    if (before < expected_ && before + n >= expected_)
        done_.set_value(finish{now_s(), process_cpu_s()});
}

std::optional<position> measured_target::confirmed_position() const {
    return inner_->confirmed_position();
}

std::optional<position> measured_target::persisted_position() const {
    return resume_at_ ? resume_at_ : inner_->persisted_position();
}

awaitable<void> measured_target::on_init(const table_identifier& table, schema_ptr schema) {
    co_await inner_->on_init(table, std::move(schema));
}

awaitable<void> measured_target::on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) {
    const double t0 = now_s();
    co_await inner_->on_baseline_rows(table, rows);
    apply_seconds_ += now_s() - t0;
    count(rows.size());
}

awaitable<void> measured_target::on_baseline_complete(const table_identifier& table,
                                                      const position& pos) {
    co_await inner_->on_baseline_complete(table, pos);
}

awaitable<void> measured_target::on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) {
    const double t0 = now_s();
    co_await inner_->on_changes(table, changes);
    apply_seconds_ += now_s() - t0;
    if (after_changes_) after_changes_(changes);
    count(changes.size());
}

awaitable<void> measured_target::on_insert(const table_identifier& table,
                                           const change_event& change) {
    co_await inner_->on_insert(table, change);
    count(1);
}

awaitable<void> measured_target::on_update(const table_identifier& table,
                                           const change_event& change) {
    co_await inner_->on_update(table, change);
    count(1);
}

awaitable<void> measured_target::on_delete(const table_identifier& table,
                                           const change_event& change) {
    co_await inner_->on_delete(table, change);
    count(1);
}

awaitable<void> measured_target::on_truncate(const table_identifier& table,
                                             const change_event& change) {
    co_await inner_->on_truncate(table, change);
}

awaitable<schema_change_response> measured_target::on_schema_change(const table_identifier& table,
                                                                    const row_schema& old_schema,
                                                                    const row_schema& new_schema) {
    co_return co_await inner_->on_schema_change(table, old_schema, new_schema);
}

awaitable<void> measured_target::begin_rebuild(const table_identifier& table) {
    co_await inner_->begin_rebuild(table);
}

awaitable<void> measured_target::commit_rebuild(const table_identifier& table) {
    co_await inner_->commit_rebuild(table);
}

awaitable<void> measured_target::on_close(const table_identifier& table) {
    co_await inner_->on_close(table);
}

}  // namespace laredo::bench::postgres
