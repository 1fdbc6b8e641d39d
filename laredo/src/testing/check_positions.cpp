// positions_strictly_increase, position_strings_round_trip_and_agree_with_compare,
// malformed_position_strings_are_rejected.
#include "checks.hpp"

#include "laredo/error.hpp"

namespace laredo::testing::detail {

using boost::asio::awaitable;

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

// Streams the changes of a case and returns them with the baseline's position.
struct positions_seen {
    position baseline;
    std::vector<recorder::entry> timeline;
};

awaitable<positions_seen> stream_some(driver& d) {
    co_await d.add_rows();
    co_await d.make_source();
    co_await d.init();
    positions_seen seen;
    seen.baseline = co_await d.baseline();
    d.start_stream(seen.baseline);
    co_await d.wait_streaming();
    co_await d.make_changes(d.env.options.changes);
    co_await d.await_delivery();
    co_await d.cancel_stream();
    seen.timeline = d.rec().timeline();
    co_return seen;
}

awaitable<void> increasing(case_env& env) {
    driver d(env);
    const auto seen = co_await stream_some(d);
    auto& src = d.source();
    position last = seen.baseline;
    std::string last_what = "the baseline's position";
    std::size_t failures = 0, index = 0;
    const auto compare = [&](const position& a, const position& b) -> std::optional<int> {
        try {
            return src.compare_positions(a, b);
        } catch (...) {
            env.rep.fail(fmt::format("compare_positions({}, {}) threw: {}", d.text(a), d.text(b),
                                     describe(std::current_exception())));
            ++failures;
            return std::nullopt;
        }
    };
    for (const auto& e : seen.timeline) {
        if (failures >= 5) break;
        if (e.what == recorder::kind::rewind) {
            last = e.pos;  // re-delivery announced: the order restarts there
            last_what = "the rewind position";
            continue;
        }
        if (e.what == recorder::kind::heartbeat) {
            const auto c = compare(e.pos, last);
            if (c && *c < 0) {
                env.rep.fail(fmt::format("heartbeat position {} is before {} ({})", d.text(e.pos),
                                         d.text(last), last_what));
                ++failures;
            }
            continue;
        }
        ++index;
        const auto what = fmt::format("change #{} ({})", index, describe(key_of_event(e.event)));
        if (e.event.pos.empty()) {
            env.rep.fail(what + " carries no position");
            ++failures;
            continue;
        }
        const auto c = compare(e.event.pos, last);
        if (c && *c <= 0) {
            env.rep.fail(
                fmt::format("position {} of {} is not after {} ({}): positions from the "
                            "baseline and from events must strictly increase (announce "
                            "re-delivery with on_rewind)",
                            d.text(e.event.pos), what, d.text(last), last_what));
            ++failures;
        }
        last = e.event.pos;
        last_what = what;
    }
    co_await d.close();
}

awaitable<void> round_trip(case_env& env) {
    driver d(env);
    const auto seen = co_await stream_some(d);
    auto& src = d.source();
    std::vector<position> all{seen.baseline};
    for (const auto& e : seen.timeline)
        all.push_back(e.what == recorder::kind::change ? e.event.pos : e.pos);
    if (src.supports_resume()) {
        if (const auto last = d.rec().last_position()) {
            co_await d.on_source("ack", src.ack(*last));
            if (auto acked = co_await d.on_source("last_acked_position", src.last_acked_position()))
                all.push_back(*acked);
        }
    }
    std::erase_if(all, [](const position& p) { return p.empty(); });

    std::size_t failures = 0;
    const auto fail = [&](const std::string& what) {
        if (failures++ < 6) env.rep.fail(what);
    };
    std::vector<std::string> texts(all.size());
    std::vector<bool> usable(all.size(), false);
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& p = all[i];
        try {
            texts[i] = src.position_to_string(p);
        } catch (...) {
            fail(fmt::format("position_to_string({}) threw: {}", p.debug_string(),
                             describe(std::current_exception())));
            continue;
        }
        position back;
        try {
            back = src.position_from_string(texts[i]);
        } catch (...) {
            fail(
                fmt::format("position_from_string(\"{}\") threw for a string position_to_string "
                            "wrote for {}: {}",
                            texts[i], p.debug_string(), describe(std::current_exception())));
            continue;
        }
        if (!(back == p)) {
            fail(
                fmt::format("\"{}\" (position_to_string of {}) reads back as {}: the round trip "
                            "loses information",
                            texts[i], p.debug_string(), back.debug_string()));
            continue;
        }
        try {
            if (src.compare_positions(back, p) != 0)
                fail(fmt::format("compare_positions of {} and its round trip is not 0",
                                 p.debug_string()));
            if (src.compare_positions(p, p) != 0)
                fail(fmt::format("compare_positions({0}, {0}) is not 0", p.debug_string()));
        } catch (...) {
            fail(fmt::format("compare_positions threw for {}: {}", p.debug_string(),
                             describe(std::current_exception())));
            continue;
        }
        usable[i] = true;
    }

    // Strings and compare agree on every pair.
    constexpr std::size_t max_pairs_of = 80;
    for (std::size_t i = 0; i < all.size() && i < max_pairs_of; ++i) {
        for (std::size_t j = i + 1; j < all.size() && j < max_pairs_of; ++j) {
            if (!usable[i] || !usable[j]) continue;
            try {
                const int ab = sign(src.compare_positions(all[i], all[j]));
                const int ba = sign(src.compare_positions(all[j], all[i]));
                if (ab != -ba) {
                    fail(
                        fmt::format("compare_positions({0}, {1}) and compare_positions({1}, {0}) "
                                    "do not have opposite signs",
                                    all[i].debug_string(), all[j].debug_string()));
                }
                if ((texts[i] == texts[j]) != (ab == 0)) {
                    fail(fmt::format("{} and {} compare {} but their strings are \"{}\" and \"{}\"",
                                     all[i].debug_string(), all[j].debug_string(),
                                     ab == 0 ? "equal" : "different", texts[i], texts[j]));
                }
                const int read = sign(src.compare_positions(src.position_from_string(texts[i]),
                                                            src.position_from_string(texts[j])));
                if (read != ab) {
                    fail(
                        fmt::format("read back from \"{}\" and \"{}\", the positions compare {} "
                                    "instead of {}",
                                    texts[i], texts[j], read, ab));
                }
            } catch (...) {
                fail(fmt::format("comparing {} and {} threw: {}", all[i].debug_string(),
                                 all[j].debug_string(), describe(std::current_exception())));
            }
        }
    }
    if (failures > 6) env.rep.fail(fmt::format("... and {} more problems", failures - 6));
    co_await d.close();
}

const std::vector<std::string>& default_malformed() {
    static const std::vector<std::string> texts{
        "not a position", "-1", "1.5", " 42", "42 ", "0x10", "18446744073709551616", "1:2:3"};
    return texts;
}

awaitable<void> malformed(case_env& env) {
    driver d(env);
    auto src = co_await d.make_source();
    co_await d.init();
    const auto& texts = env.options.malformed_positions.empty() ? default_malformed()
                                                                : env.options.malformed_positions;
    for (const auto& text : texts) {
        try {
            const auto p = src->position_from_string(text);
            env.rep.fail(
                fmt::format("position_from_string(\"{}\") accepted a malformed string, "
                            "as {}",
                            text, p.debug_string()));
        } catch (const boost::system::system_error& e) {
            if (e.code() != errc::invalid_position) {
                env.rep.fail(
                    fmt::format("position_from_string(\"{}\") threw {} instead of "
                                "errc::invalid_position: {}",
                                text, e.code().to_string(), e.what()));
            } else if (std::string_view(e.what()).find(text) == std::string_view::npos) {
                env.rep.fail(
                    fmt::format("position_from_string(\"{}\")'s error does not name the "
                                "string: {}",
                                text, e.what()));
            }
        } catch (...) {
            env.rep.fail(
                fmt::format("position_from_string(\"{}\") threw something other than "
                            "laredo::error(errc::invalid_position): {}",
                            text, describe(std::current_exception())));
        }
    }
    co_await d.close();
}

}  // namespace

void check_positions_strictly_increase(case_env& env) {
    env.run([&env] { return increasing(env); });
}

void check_position_strings_round_trip(case_env& env) {
    env.run([&env] { return round_trip(env); });
}

void check_malformed_position_strings_are_rejected(case_env& env) {
    env.run([&env] { return malformed(env); });
}

}  // namespace laredo::testing::detail
