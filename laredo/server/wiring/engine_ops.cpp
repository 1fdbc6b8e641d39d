#include "laredo/server/wiring/engine_ops.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laredo::server::wiring {

namespace asio = boost::asio;
// The engine's operations complete with an error_code; with_diagnostics turns a failure into
// a laredo::error carrying the code and the message, which the API reports as it is.
const auto use_tuple = with_diagnostics(asio::as_tuple(asio::use_awaitable));

namespace {
void rethrow_if(const std::exception_ptr& e) {
    if (e) std::rethrow_exception(e);
}
}  // namespace

asio::awaitable<void> start(engine eng) {
    auto [e] = co_await eng.async_start(use_tuple);
    rethrow_if(e);
}

asio::awaitable<void> stop(engine eng) {
    auto [e] = co_await eng.async_stop(use_tuple);
    rethrow_if(e);
}

asio::awaitable<void> pause(engine eng, std::string source_id) {
    auto [e] = co_await eng.async_pause(std::move(source_id), use_tuple);
    rethrow_if(e);
}

asio::awaitable<void> resume(engine eng, std::string source_id) {
    auto [e] = co_await eng.async_resume(std::move(source_id), use_tuple);
    rethrow_if(e);
}

asio::awaitable<void> reload(engine eng, std::string source_id, table_identifier table) {
    auto [e] = co_await eng.async_reload(std::move(source_id), std::move(table), use_tuple);
    rethrow_if(e);
}

asio::awaitable<snapshot_descriptor> create_snapshot(engine eng,
                                                     std::map<std::string, std::string> labels) {
    auto [e, d] = co_await eng.async_create_snapshot(std::move(labels), use_tuple);
    rethrow_if(e);
    co_return d;
}

asio::awaitable<std::size_t> replay_dead_letters(engine eng, std::string pipeline_id) {
    auto [e, n] = co_await eng.async_replay_dead_letters(std::move(pipeline_id), use_tuple);
    rethrow_if(e);
    co_return n;
}

}  // namespace laredo::server::wiring
