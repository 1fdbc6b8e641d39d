// libFuzzer target over the sans-io PostgreSQL wire layer: replication framing, the pgoutput
// decoder with its relation cache and transaction positions, the value converter, and the LSN
// and position strings. Built by build_and_run.sh with clang++-14
// -fsanitize=fuzzer,address,undefined (not by meson's gcc build).
//
// Input: the first byte chooses a mode.
//   even: a replication stream. Then frames of [u16 big-endian length][CopyData content]:
//         'w' XLogData (the payload goes to change_decoder::feed) or 'k' keepalive (a
//         heartbeat). Bit 1 of the mode byte turns on only_catalog_tables with a catalog
//         schema for public.t1. Errors (laredo::error) are expected and the stream goes on,
//         so the decoder must also survive being fed after a failure.
//   odd:  one text value. The second byte picks the value kind; the rest is the text, which
//         is also parsed as an LSN and as a position.
// Invariants that abort when broken: positions given out strictly increase; every row has
// one value per schema column; LSNs, positions and standby status updates round-trip.

#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/sources/postgres/pgoutput_changes.hpp"
#include "laredo/sources/postgres/replication_framing.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace pg = laredo::sources::postgres;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_row(const laredo::row& r) {
    if (r.empty()) return;
    check(r.size() == r.schema()->size());
}

void fuzz_text(std::string_view data) {
    if (data.empty()) return;
    const auto kind = static_cast<pg::value_kind>(static_cast<std::uint8_t>(data[0]) % 14);
    const std::string_view text = data.substr(1);
    try {
        const laredo::value v = pg::convert_text(kind, text);
        (void)v.to_string();
    } catch (const laredo::error&) {
    }
    if (const auto lsn = pg::try_parse_lsn(text))
        check(pg::parse_lsn(pg::format_lsn(*lsn)) == *lsn);
    try {
        const auto pos = pg::position_from_string(text);
        check(pg::position_from_string(pg::position_to_string(pos)) == pos);
    } catch (const laredo::error&) {
    }
}

void fuzz_stream(std::uint8_t mode, std::string_view data) {
    pg::value_converter types;
    pg::change_decoder decoder(types, {.only_catalog_tables = (mode & 2) != 0});
    if (mode & 2) {
        decoder.relations().set_catalog_schema(
            laredo::table_identifier("public", "t1"),
            laredo::row_schema::make({{.name = "id",
                                       .type = "int4",
                                       .type_oid = 23,
                                       .primary_key = true,
                                       .primary_key_ordinal = 1}}));
    }
    pg::standby_status_tracker tracker;
    std::vector<laredo::change_event> events;
    laredo::position last;
    const auto now = std::chrono::system_clock::time_point();

    while (data.size() >= 2) {
        const std::size_t len =
            (static_cast<std::uint8_t>(data[0]) << 8) | static_cast<std::uint8_t>(data[1]);
        data.remove_prefix(2);
        const std::string_view frame = data.substr(0, len);
        data.remove_prefix(frame.size());
        try {
            const auto message = pg::parse_replication_message(frame);
            tracker.on_received(message);
            if (const auto* k = std::get_if<pg::primary_keepalive>(&message)) {
                if (const auto hb = decoder.heartbeat(k->wal_end)) {
                    check(pg::compare_positions(*hb, last) > 0);
                    last = *hb;
                }
                tracker.on_acked(last);
                const auto update = tracker.next_update(k->send_time, k->reply_requested);
                check(update.flush <= update.write);
                const auto bytes = pg::encode_standby_status_update(update);
                check(pg::parse_standby_status_update(
                          std::string_view(bytes.data(), bytes.size())) == update);
                continue;
            }
            const std::size_t before = events.size();
            const auto step = decoder.feed(std::get<pg::xlog_data>(message), now, events);
            for (std::size_t i = before; i < events.size(); ++i) {
                check(pg::compare_positions(events[i].pos, last) > 0);
                last = events[i].pos;
                check_row(events[i].new_values);
                check_row(events[i].old_values);
                (void)events[i].new_values.debug_string();
            }
            if (step.what == pg::change_decoder::step::kind::commit) {
                check(pg::compare_positions(step.commit_position, last) > 0);
                last = step.commit_position;
            }
        } catch (const laredo::error&) {
            // Expected for malformed input; the next frame is fed to the same decoder.
        }
        if (events.size() > 4096) events.clear();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view data(reinterpret_cast<const char*>(bytes), size);
    const auto mode = static_cast<std::uint8_t>(data[0]);
    if (mode & 1) {
        fuzz_text(data.substr(1));
    } else {
        fuzz_stream(mode, data.substr(1));
    }
    return 0;
}
