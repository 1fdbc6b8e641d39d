#pragma once

// What `laredo watch` shows, apart from how it gets it: a line per pipeline (state, rows,
// changes/s, lag) and a progress bar during a baseline. Plain text; the watch decides whether
// it redraws a frame in place (a terminal) or prints lines as they change (a pipe).

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace laredo::cli {

struct baseline_figures {
    std::uint64_t rows_done = 0;
    std::optional<std::uint64_t> rows_total;  // the source's estimate
    double rows_per_second = 0;
    bool done = false;
    double elapsed_seconds = 0;  // when done
};

// From a pipeline's "baseline" object of the API (nullopt when it has none).
std::optional<baseline_figures> baseline_of(const boost::json::value& pipeline);

// "[########------------]  42%  4,200/10,000 rows  5,000 rows/s  ETA 1s"; done: 100 % and
// the time it took.
std::string progress_text(const baseline_figures& b, std::size_t bar_width = 20);

// "STREAMING  rows 20  changes/s 3.0  lag 0 B / 0.1 s" (lag from the pipeline's source).
std::string pipeline_text(const boost::json::value& pipeline, double changes_per_second,
                          const boost::json::value* source);

// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t n);
// 75 -> "1m15s".
std::string short_duration(double seconds);

}  // namespace laredo::cli
