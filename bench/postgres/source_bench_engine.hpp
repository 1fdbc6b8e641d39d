#pragma once

// One engine with one PostgreSQL source and one pipeline, on an io_context of its own run by
// `threads` threads: what an embedder would run, set up and torn down per measured run.

#include "laredo/engine.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace laredo::bench::postgres {

// When the pipeline's baseline started and completed (now_s, process_cpu_s), and why the
// source disconnected, if it did (a run that never finishes says why).
class bench_observer final : public engine_observer {
  public:
    struct moment {
        double at_s = 0;
        double cpu_s = 0;
    };
    void on_baseline_started(const std::string&, const table_identifier&) override;
    void on_baseline_row_loaded(const std::string&, const table_identifier&,
                                std::uint64_t rows_so_far) override;
    void on_baseline_completed(const std::string&, const table_identifier&, std::uint64_t rows,
                               duration) override;
    void on_source_disconnected(const std::string&, const std::string& reason) override;
    void on_change_error(const std::string& pipeline_id, const table_identifier&, change_action,
                         const std::string& message) override;

    std::optional<moment> baseline_started() const;
    std::optional<moment> baseline_first_rows() const;  // the first batch applied
    std::optional<moment> baseline_completed() const;
    std::uint64_t baseline_rows() const;

  private:
    mutable std::mutex mutex_;
    std::optional<moment> started_;
    std::optional<moment> first_rows_;
    std::optional<moment> completed_;
    std::uint64_t rows_ = 0;
};

class engine_host {
  public:
    engine_host(sources::postgres::source_options options, int threads);
    ~engine_host();
    engine_host(const engine_host&) = delete;
    engine_host& operator=(const engine_host&) = delete;

    sources::postgres::postgres_source& source() { return *source_; }
    const bench_observer& observer() const { return *observer_; }

    // Builds the engine with one pipeline (call once, before start).
    void add_pipeline(const table_identifier& table, std::shared_ptr<sync_target> target,
                      pipeline_options options);
    void start();
    // Throws std::runtime_error when the pipeline is not streaming within `timeout`.
    void wait_ready(std::chrono::milliseconds timeout);
    void stop();

  private:
    boost::asio::io_context ctx_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::shared_ptr<bench_observer> observer_;
    std::shared_ptr<sources::postgres::postgres_source> source_;
    std::optional<laredo::engine> engine_;
    std::vector<std::thread> threads_;
    int thread_count_;
    bool started_ = false;
    bool stopped_ = false;
};

}  // namespace laredo::bench::postgres
