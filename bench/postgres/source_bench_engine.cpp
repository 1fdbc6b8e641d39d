#include "source_bench_engine.hpp"

#include "source_bench_support.hpp"

#include <boost/asio/use_future.hpp>

#include <iostream>
#include <stdexcept>

namespace laredo::bench::postgres {

namespace asio = boost::asio;

void bench_observer::on_baseline_started(const std::string&, const table_identifier&) {
    const moment m{now_s(), process_cpu_s()};
    std::lock_guard lock(mutex_);
    started_ = m;
}

void bench_observer::on_baseline_row_loaded(const std::string&, const table_identifier&,
                                            std::uint64_t) {
    std::lock_guard lock(mutex_);
    if (!first_rows_) first_rows_ = moment{now_s(), process_cpu_s()};
}

void bench_observer::on_baseline_completed(const std::string&, const table_identifier&,
                                           std::uint64_t rows, duration) {
    const moment m{now_s(), process_cpu_s()};
    std::lock_guard lock(mutex_);
    completed_ = m;
    rows_ = rows;
}

void bench_observer::on_source_disconnected(const std::string& source_id,
                                            const std::string& reason) {
    std::cerr << "[source_bench] source " << source_id << " disconnected: " << reason << "\n";
}

void bench_observer::on_change_error(const std::string& pipeline_id, const table_identifier&,
                                     change_action, const std::string& message) {
    std::cerr << "[source_bench] pipeline " << pipeline_id << ": " << message << "\n";
}

std::optional<bench_observer::moment> bench_observer::baseline_started() const {
    std::lock_guard lock(mutex_);
    return started_;
}

std::optional<bench_observer::moment> bench_observer::baseline_first_rows() const {
    std::lock_guard lock(mutex_);
    return first_rows_;
}

std::optional<bench_observer::moment> bench_observer::baseline_completed() const {
    std::lock_guard lock(mutex_);
    return completed_;
}

std::uint64_t bench_observer::baseline_rows() const {
    std::lock_guard lock(mutex_);
    return rows_;
}

engine_host::engine_host(sources::postgres::source_options options, int threads)
    : observer_(std::make_shared<bench_observer>()), thread_count_(threads) {
    work_.emplace(ctx_.get_executor());
    source_ = std::make_shared<sources::postgres::postgres_source>(ctx_.get_executor(),
                                                                   std::move(options));
}

engine_host::~engine_host() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "[source_bench] engine stop: " << e.what() << "\n";
    }
    work_.reset();
    for (auto& t : threads_) t.join();
}

void engine_host::add_pipeline(const table_identifier& table, std::shared_ptr<sync_target> target,
                               pipeline_options pipeline) {
    engine_options options;
    options.observer = observer_;
    auto b = laredo::engine::builder();
    b.add_source("pg", source_);
    b.add_pipeline("pg", table, std::move(target), std::move(pipeline));
    b.with_options(std::move(options));
    engine_.emplace(b.build(ctx_.get_executor()));
}

void engine_host::start() {
    if (!engine_) throw std::logic_error("engine_host::start before add_pipeline");
    for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { ctx_.run(); });
    engine_->async_start(asio::use_future).get();
    started_ = true;
}

void engine_host::wait_ready(std::chrono::milliseconds timeout) {
    if (!engine_->await_ready(timeout)) {
        std::string why;
        for (const auto& p : engine_->pipelines())
            why += " " + p.id + ": " + std::string(to_string(p.state)) +
                   (p.last_error.empty() ? "" : " (" + p.last_error + ")");
        throw std::runtime_error("the pipeline did not reach STREAMING:" + why);
    }
}

void engine_host::stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    engine_->async_stop(asio::use_future).get();
}

}  // namespace laredo::bench::postgres
