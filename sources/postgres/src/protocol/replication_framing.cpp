#include "laredo/sources/postgres/replication_framing.hpp"

#include "byte_reader.hpp"
#include "error_text.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

using detail::byte_reader;

std::chrono::system_clock::time_point from_pg_timestamp(std::int64_t pg_micros) noexcept {
    using namespace std::chrono;
    using clock_duration = system_clock::duration;
    // Saturate instead of overflowing for garbage times: system_clock counts nanoseconds on
    // libstdc++, so it spans only about +/-292 years around 1970.
    constexpr auto max_micros =
        duration_cast<microseconds>(clock_duration::max()).count() - pg_epoch_unix_micros;
    constexpr auto min_micros =
        duration_cast<microseconds>(clock_duration::min()).count() - pg_epoch_unix_micros;
    if (pg_micros >= max_micros) return system_clock::time_point::max();
    if (pg_micros <= min_micros) return system_clock::time_point::min();
    return system_clock::time_point(
        duration_cast<clock_duration>(microseconds(pg_micros + pg_epoch_unix_micros)));
}

std::int64_t to_pg_timestamp(std::chrono::system_clock::time_point t) noexcept {
    using namespace std::chrono;
    return duration_cast<microseconds>(t.time_since_epoch()).count() - pg_epoch_unix_micros;
}

replication_message parse_replication_message(std::string_view copy_data) {
    if (copy_data.empty()) {
        throw error(errc::corrupt_data, "empty CopyData message in the replication stream");
    }
    switch (copy_data[0]) {
        case 'w': {
            byte_reader r(copy_data.substr(1), "XLogData");
            xlog_data m;
            m.wal_start = r.u64("wal_start");
            m.wal_end = r.u64("wal_end");
            m.send_time = r.i64("send_time");
            m.payload = r.rest();
            return m;
        }
        case 'k': {
            byte_reader r(copy_data.substr(1), "primary keepalive");
            primary_keepalive m;
            m.wal_end = r.u64("wal_end");
            m.send_time = r.i64("send_time");
            const auto reply = r.u8("reply_requested");
            if (reply > 1) {
                r.fail(fmt::format("reply_requested is {}, expected 0 or 1", reply));
            }
            m.reply_requested = reply == 1;
            r.expect_end();
            return m;
        }
        default:
            throw error(errc::corrupt_data,
                        fmt::format("unknown replication message tag {} in a CopyData message of "
                                    "{} bytes (expected 'w' XLogData or 'k' keepalive)",
                                    detail::describe_tag(copy_data[0]), copy_data.size()));
    }
}

namespace {
void store_u64(char* p, std::uint64_t v) noexcept {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}
}  // namespace

std::array<char, standby_status_update_size> encode_standby_status_update(
    const standby_status_update& update) noexcept {
    std::array<char, standby_status_update_size> out{};
    out[0] = 'r';
    store_u64(&out[1], update.write);
    store_u64(&out[9], update.flush);
    store_u64(&out[17], update.apply);
    store_u64(&out[25], static_cast<std::uint64_t>(update.client_time));
    out[33] = update.reply_requested ? 1 : 0;
    return out;
}

standby_status_update parse_standby_status_update(std::string_view copy_data) {
    if (copy_data.empty() || copy_data[0] != 'r') {
        throw error(errc::corrupt_data,
                    fmt::format("not a standby status update: tag {}",
                                copy_data.empty() ? std::string("(none)")
                                                  : detail::describe_tag(copy_data[0])));
    }
    byte_reader r(copy_data.substr(1), "standby status update");
    standby_status_update u;
    u.write = r.u64("write");
    u.flush = r.u64("flush");
    u.apply = r.u64("apply");
    u.client_time = r.i64("client_time");
    const auto reply = r.u8("reply_requested");
    if (reply > 1) r.fail(fmt::format("reply_requested is {}, expected 0 or 1", reply));
    u.reply_requested = reply == 1;
    r.expect_end();
    return u;
}

void standby_status_tracker::on_received(std::uint64_t wal_end) noexcept {
    if (wal_end > received_) received_ = wal_end;
}

void standby_status_tracker::on_received(const replication_message& message) noexcept {
    if (const auto* x = std::get_if<xlog_data>(&message)) {
        on_received(x->wal_end > x->wal_start ? x->wal_end : x->wal_start);
    } else {
        on_received(std::get<primary_keepalive>(message).wal_end);
    }
}

void standby_status_tracker::on_acked(std::uint64_t lsn) noexcept {
    if (lsn > acked_) acked_ = lsn;
}

void standby_status_tracker::on_acked(const position& pos) {
    if (pos.empty()) return;
    if (pos.get_kind() != position::kind::pair) {
        throw error(errc::invalid_position,
                    fmt::format("cannot acknowledge position {}: not a PostgreSQL position",
                                pos.debug_string()));
    }
    on_acked(pos.major());
}

bool standby_status_tracker::has_news() const noexcept {
    const std::uint64_t flush = acked_ > sent_flush_ ? acked_ : sent_flush_;
    const std::uint64_t write = received_ > flush ? received_ : flush;
    return write != sent_write_ || flush != sent_flush_;
}

standby_status_update standby_status_tracker::next_update(std::int64_t client_time,
                                                          bool reply_requested) noexcept {
    // acked_ only grows, but keep the max with what was sent so that no code path (a future
    // reset of acked_) can ever send a lower flush.
    const std::uint64_t flush = acked_ > sent_flush_ ? acked_ : sent_flush_;
    const std::uint64_t write = received_ > flush ? received_ : flush;
    sent_flush_ = flush;
    sent_write_ = write;
    return standby_status_update{write, flush, flush, client_time, reply_requested};
}

}  // namespace laredo::sources::postgres
