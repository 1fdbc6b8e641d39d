#include "target_impl.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

namespace laredo::targets::httpsync {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// One request in flight and one full batch waiting behind it: the producer waits beyond that.
constexpr std::size_t max_queued_batches = 2;

}  // namespace

http_sync_target::impl::impl(http_sync_options options)
    : options_((options.validate(), std::move(options))),
      endpoint_(detail::parse_base_url(options_.base_url)),
      credentials_(options_),
      tls_(endpoint_.tls ? detail::make_tls_settings(options_) : nullptr),
      keep_changes_(options_.dead_letters != nullptr),
      random_(std::random_device{}()) {}

void http_sync_target::impl::check_not_failed() const {
    if (failure_) throw error(errc::target_failed, *failure_);
    if (stopping_) throw error(errc::stopped, "httpsync: the target is closed");
}

awaitable<void> http_sync_target::impl::init(const table_identifier& table, schema_ptr schema) {
    if (!executor_) {
        executor_ = co_await asio::this_coro::executor;
        connection_ = std::make_unique<detail::http_connection>(
            executor_, endpoint_, tls_,
            detail::connection_timeouts{options_.connect_timeout, options_.request_timeout});
        progress_ = std::make_unique<detail::strand_signal>(executor_);
        wake_ = std::make_unique<asio::steady_timer>(executor_);
        retry_timer_ = std::make_unique<asio::steady_timer>(executor_);
    }
    table_ = table;
    columns_ = schema ? schema->columns() : std::vector<column_definition>{};
    encoder_.emplace(table_, options_.format_position);
    const detail::batch_limits limits{options_.batch_size, options_.batch_bytes};
    rows_.emplace("/baseline/batch", encoder_->baseline_batch_prefix(),
                  std::string(detail::payload_encoder::baseline_batch_suffix), limits);
    changes_.emplace("/changes", "[", "]", limits);
    queue_.clear();
    failure_.reset();
    counters.failed = false;
    baseline_started_ = false;
    baseline_rows_ = 0;
    stopping_ = false;
    if (!sender_running_) {
        sender_running_ = true;
        asio::co_spawn(executor_, run_sender(), asio::detached);
    }
    update_gauges();
}

void http_sync_target::impl::start_baseline_if_needed(const schema_ptr& rows_schema) {
    if (baseline_started_) return;
    baseline_started_ = true;
    baseline_rows_ = 0;
    if (rows_schema) columns_ = rows_schema->columns();
    detail::batch start;
    start.path = "/baseline/start";
    start.body = encoder_->baseline_start(columns_);
    enqueue(std::move(start));
}

void http_sync_target::impl::enqueue(detail::batch b) {
    queue_.push_back(std::move(b));
    wake_->cancel();
}

awaitable<void> http_sync_target::impl::hand_over(detail::batcher& from) {
    while (from.has_ready()) {
        while (queue_.size() >= max_queued_batches && !failure_ && !stopping_)
            co_await progress_->wait();
        check_not_failed();
        enqueue(from.pop_ready());
    }
    // The sender recomputes its flush deadline.
    wake_->cancel();
    update_gauges();
}

awaitable<void> http_sync_target::impl::wait_until_delivered() {
    while (!queue_.empty() && !failure_ && !stopping_) co_await progress_->wait();
    check_not_failed();
}

awaitable<void> http_sync_target::impl::baseline_rows(std::span<const row> rows) {
    check_not_failed();
    if (rows.empty()) co_return;
    start_baseline_if_needed(rows.front().schema());
    const auto now = detail::batcher::clock::now();
    for (const auto& r : rows) {
        rows_->add_item(encoder_->row(r), now);
        ++baseline_rows_;
        if (rows_->has_ready()) co_await hand_over(*rows_);
    }
    co_await hand_over(*rows_);
}

awaitable<void> http_sync_target::impl::baseline_complete(const position& pos) {
    check_not_failed();
    start_baseline_if_needed(nullptr);
    rows_->flush_all();
    co_await hand_over(*rows_);
    detail::batch complete;
    complete.path = "/baseline/complete";
    complete.body = encoder_->baseline_complete(pos, baseline_rows_);
    complete.confirms = pos;
    enqueue(std::move(complete));
    baseline_started_ = false;
    update_gauges();
    // The pipeline reports the table ready after this: the endpoint has the whole copy then.
    co_await wait_until_delivered();
}

awaitable<void> http_sync_target::impl::changes(std::span<const change_event> changes) {
    check_not_failed();
    call_changes_ = 0;
    const auto now = detail::batcher::clock::now();
    try {
        for (const auto& c : changes) {
            auto position_json = encoder_->position_json(c.pos);
            auto open = encoder_->open_change(c, position_json);
            changes_->add_change(std::move(open), c, position_json, keep_changes_, now);
            ++call_changes_;
            if (changes_->has_ready()) co_await hand_over(*changes_);
        }
        co_await hand_over(*changes_);
    } catch (...) {
        call_changes_ = 0;
        throw;
    }
    call_changes_ = 0;
}

awaitable<void> http_sync_target::impl::rebuild() {
    if (failure_) {
        // Everything not delivered was dead-lettered; the new copy brings the table back.
        failure_.reset();
        counters.failed = false;
        changes_->flush_all();
        while (changes_->has_ready()) changes_->pop_ready();
        connection_->close();
    } else {
        // Changes before the reload go first; the new copy follows them.
        changes_->flush_all();
        co_await hand_over(*changes_);
    }
    rows_->flush_all();
    while (rows_->has_ready()) rows_->pop_ready();
    baseline_started_ = false;
    baseline_rows_ = 0;
    update_gauges();
}

awaitable<void> http_sync_target::impl::close() {
    if (!executor_ || stopping_) co_return;
    std::exception_ptr failure;
    try {
        check_not_failed();
        rows_->flush_all();
        co_await hand_over(*rows_);
        changes_->flush_all();
        co_await hand_over(*changes_);
        co_await wait_until_delivered();
    } catch (...) {
        failure = std::current_exception();
    }
    stopping_ = true;
    wake_->cancel();
    retry_timer_->cancel();
    connection_->close();
    if (failure) std::rethrow_exception(failure);
}

bool http_sync_target::impl::durable() const {
    if (!executor_) return true;
    return queue_.empty() && !failure_ && changes_->empty() && rows_->empty();
}

void http_sync_target::impl::abandon() {
    if (!executor_) return;
    auto self = shared_from_this();
    asio::post(executor_, [self] {
        self->stopping_ = true;
        self->wake_->cancel();
        self->retry_timer_->cancel();
        self->connection_->close();
        self->progress_->notify_all();
    });
}

void http_sync_target::impl::update_gauges() {
    std::size_t rows = 0;
    for (const auto& b : queue_) rows += b.rows;
    if (rows_) rows += rows_->queued_rows();
    if (changes_) rows += changes_->queued_rows();
    counters.queued_rows.store(rows, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------

http_sync_target::http_sync_target(http_sync_options options)
    : impl_(std::make_shared<impl>(std::move(options))) {}

http_sync_target::~http_sync_target() { impl_->abandon(); }

awaitable<void> http_sync_target::on_init(const table_identifier& table, schema_ptr schema) {
    co_await impl_->init(table, std::move(schema));
}

awaitable<void> http_sync_target::on_baseline_rows(const table_identifier&,
                                                   std::span<const row> rows) {
    co_await impl_->baseline_rows(rows);
}

awaitable<void> http_sync_target::on_baseline_complete(const table_identifier&,
                                                       const position& pos) {
    co_await impl_->baseline_complete(pos);
}

awaitable<void> http_sync_target::on_changes(const table_identifier&,
                                             std::span<const change_event> changes) {
    co_await impl_->changes(changes);
}

awaitable<void> http_sync_target::on_insert(const table_identifier&, const change_event& change) {
    co_await impl_->changes(std::span<const change_event>(&change, 1));
}

awaitable<void> http_sync_target::on_update(const table_identifier&, const change_event& change) {
    co_await impl_->changes(std::span<const change_event>(&change, 1));
}

awaitable<void> http_sync_target::on_delete(const table_identifier&, const change_event& change) {
    co_await impl_->changes(std::span<const change_event>(&change, 1));
}

awaitable<void> http_sync_target::on_truncate(const table_identifier&, const change_event& change) {
    co_await impl_->changes(std::span<const change_event>(&change, 1));
}

bool http_sync_target::is_durable() const { return impl_->durable(); }

std::optional<position> http_sync_target::confirmed_position() const { return impl_->confirmed(); }

awaitable<schema_change_response> http_sync_target::on_schema_change(const table_identifier&,
                                                                     const row_schema&,
                                                                     const row_schema& new_schema) {
    impl_->schema_changed(new_schema);
    switch (impl_->options_.on_schema_change) {
        case schema_change_action::continue_:
            co_return schema_change_response{schema_change_action::continue_,
                                             "httpsync: later changes carry the new columns"};
        case schema_change_action::error:
            co_return schema_change_response{schema_change_action::error,
                                             "httpsync: the table's columns changed"};
        case schema_change_action::rebaseline:
            break;
    }
    co_return schema_change_response{schema_change_action::rebaseline,
                                     "httpsync: columns changed: send a new copy"};
}

awaitable<void> http_sync_target::begin_rebuild(const table_identifier&) {
    co_await impl_->rebuild();
}

awaitable<void> http_sync_target::commit_rebuild(const table_identifier&) { co_return; }

awaitable<void> http_sync_target::on_close(const table_identifier&) { co_await impl_->close(); }

http_sync_metrics http_sync_target::metrics() const { return impl_->counters.snapshot(); }

}  // namespace laredo::targets::httpsync
