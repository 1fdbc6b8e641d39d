#include "laredo/sources/postgres/pgoutput_changes.hpp"

#include "error_text.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

change_decoder::change_decoder(value_converter& types, change_decoder_options options)
    : types_(types), options_(options) {}

bool change_decoder::wanted(const relation_info& relation) const noexcept {
    return !options_.only_catalog_tables || relation.has_catalog_schema;
}

change_event& change_decoder::start_event(const relation_info& relation, change_action action,
                                          std::chrono::system_clock::time_point now,
                                          std::vector<change_event>& out) {
    // The position first: it throws outside a transaction, and `out` must not keep a
    // half-made event.
    position pos = transactions_.next_change_position();
    auto& e = out.emplace_back();
    e.table = relation.table;
    e.action = action;
    e.pos = std::move(pos);
    e.timestamp = now;
    e.commit_timestamp = commit_time_;
    e.transaction_id = transactions_.xid();
    e.ends_transaction = false;
    return e;
}

change_decoder::step change_decoder::feed(std::string_view payload,
                                          std::chrono::system_clock::time_point now,
                                          std::vector<change_event>& out) {
    using kind = step::kind;
    step s;
    const pgoutput_message message = decode_pgoutput(payload);
    switch (message.index()) {
        case 0: {  // Begin
            const auto& m = std::get<begin_message>(message);
            transactions_.begin(m);
            commit_time_ = from_pg_timestamp(m.commit_time);
            s.what = kind::begin;
            return s;
        }
        case 1: {  // Commit
            const auto& m = std::get<commit_message>(message);
            const std::uint64_t xid = transactions_.xid();
            const std::uint64_t final_lsn = transactions_.final_lsn();
            const bool had_changes = transactions_.change_count() > 0;
            s.commit_position = transactions_.commit(m);
            s.what = kind::commit;
            if (had_changes && !out.empty()) {
                auto& last = out.back();
                if (last.transaction_id == xid && last.pos.get_kind() == position::kind::pair &&
                    last.pos.major() == final_lsn) {
                    last.ends_transaction = true;
                    s.marked_last_event = true;
                }
            }
            return s;
        }
        case 2: {  // Origin
            s.what = kind::origin;
            s.origin = std::get<origin_message>(message);
            return s;
        }
        case 3: {  // Relation
            const auto r = relations_.apply(std::get<relation_message>(message), types_);
            s.what = kind::relation;
            s.relation = &r.relation;
            s.change = r.change;
            return s;
        }
        case 4: {  // Type
            types_.apply(std::get<type_message>(message));
            s.what = kind::type;
            return s;
        }
        case 5: {  // Insert
            const auto& m = std::get<insert_message>(message);
            const auto& rel = relations_.at(m.relation_id);
            if (!wanted(rel)) {
                transactions_.next_change_position();
                s.what = kind::skipped;
                return s;
            }
            auto rows = insert_rows(rel, m);
            auto& e = start_event(rel, change_action::insert, now, out);
            e.new_values = std::move(rows.new_values);
            s.what = kind::changes;
            s.events = 1;
            return s;
        }
        case 6: {  // Update
            const auto& m = std::get<update_message>(message);
            const auto& rel = relations_.at(m.relation_id);
            if (!wanted(rel)) {
                transactions_.next_change_position();
                s.what = kind::skipped;
                return s;
            }
            auto rows = update_rows(rel, m);
            auto& e = start_event(rel, change_action::update, now, out);
            e.new_values = std::move(rows.new_values);
            e.old_values = std::move(rows.old_values);
            s.what = kind::changes;
            s.events = 1;
            return s;
        }
        case 7: {  // Delete
            const auto& m = std::get<delete_message>(message);
            const auto& rel = relations_.at(m.relation_id);
            if (!wanted(rel)) {
                transactions_.next_change_position();
                s.what = kind::skipped;
                return s;
            }
            auto rows = delete_rows(rel, m);
            auto& e = start_event(rel, change_action::delete_, now, out);
            e.old_values = std::move(rows.old_values);
            s.what = kind::changes;
            s.events = 1;
            return s;
        }
        case 8: {  // Truncate: one event per relation, in the message's order
            const auto& m = std::get<truncate_message>(message);
            if (!transactions_.in_transaction()) {
                throw error(errc::corrupt_data, "Truncate outside a transaction");
            }
            // Check every relation first, so a bad id appends nothing.
            for (std::uint32_t i = 0; i < m.relation_count; ++i) relations_.at(m.relation_id(i));
            s.what = kind::skipped;
            for (std::uint32_t i = 0; i < m.relation_count; ++i) {
                const auto& rel = relations_.at(m.relation_id(i));
                if (!wanted(rel)) {
                    transactions_.next_change_position();
                    continue;
                }
                start_event(rel, change_action::truncate, now, out);
                s.what = kind::changes;
                ++s.events;
            }
            return s;
        }
        default: {  // Message
            s.what = kind::message;
            s.message = std::get<logical_message>(message);
            return s;
        }
    }
}

change_decoder::step change_decoder::feed(const xlog_data& message,
                                          std::chrono::system_clock::time_point now,
                                          std::vector<change_event>& out) {
    try {
        return feed(message.payload, now, out);
    } catch (const error& e) {
        detail::rethrow_with_context(
            e, fmt::format("pgoutput message in XLogData (wal_start {}, wal_end {})",
                           format_lsn(message.wal_start), format_lsn(message.wal_end)));
    }
}

}  // namespace laredo::sources::postgres
