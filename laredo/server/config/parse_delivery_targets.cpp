// The keys of the targets that deliver a table elsewhere: http-sync (batches POSTed to an
// endpoint) and replication-fanout (live replicas served over WebSocket).

#include "laredo/server/common/describe.hpp"
#include "laredo/server/config/parse.hpp"

namespace laredo::server::config::detail {

namespace {

// `modern` or its older name `legacy` (the Go original's), not both.
const char* one_of_names(node_reader& t, const char* modern, const char* legacy) {
    const bool has_modern = t.raw(modern) != nullptr;
    const bool has_legacy = t.raw(legacy) != nullptr;
    if (has_modern && has_legacy)
        t.problem(legacy, std::string("the same setting as `") + modern + "`: keep one");
    return has_legacy && !has_modern ? legacy : modern;
}

void parse_http_sync_auth(node_reader& t, targets::httpsync::http_sync_options& o) {
    auto auth = t.secret_reference_of("auth_header");
    o.auth_header = std::move(auth.inline_value);
    o.auth_header_env = std::move(auth.env);
    o.auth_header_file = std::move(auth.file);
    auto bearer = t.secret_reference_of("bearer_token");
    o.bearer_token = std::move(bearer.inline_value);
    o.bearer_token_env = std::move(bearer.env);
    o.bearer_token_file = std::move(bearer.file);
}

}  // namespace

void parse_http_sync(node_reader& t, target_config& out) {
    auto& o = out.http_sync;
    if (auto v = t.string("base_url"))
        o.base_url = *v;
    else
        t.problem_here("an http-sync target needs `base_url` (\"https://host[:port][/prefix]\")");
    if (auto v = t.integer("batch_size", 1, 1'000'000)) o.batch_size = static_cast<std::size_t>(*v);
    if (auto v = t.size("batch_bytes")) o.batch_bytes = static_cast<std::size_t>(*v);
    if (auto v = t.duration("flush_interval")) o.flush_interval = *v;
    if (auto v = t.duration("connect_timeout")) o.connect_timeout = *v;
    if (const char* key = one_of_names(t, "request_timeout", "timeout_ms");
        std::string_view(key) == "timeout_ms") {
        if (auto v = t.integer(key, 1, 86'400'000)) o.request_timeout = milliseconds{*v};
    } else if (auto v = t.duration(key)) {
        o.request_timeout = *v;
    }
    if (auto v = t.integer(one_of_names(t, "max_retries", "retry_count"), 0, 1'000'000))
        o.max_retries = static_cast<int>(*v);
    if (auto v = t.duration("retry_initial_backoff")) o.retry_initial_backoff = *v;
    if (auto v = t.duration("retry_max_backoff")) o.retry_max_backoff = *v;
    if (auto v = t.number("retry_jitter")) o.retry_jitter = *v;
    if (auto v = t.duration("max_retry_after")) o.max_retry_after = *v;
    if (auto headers = t.table("headers")) {
        for (const auto& name : headers->keys()) {
            // A header may carry an API key: never shown in the effective configuration.
            headers->mark_secret(name);
            if (auto v = headers->string(name)) o.headers[name] = *v;
        }
        headers->finish();
    }
    parse_http_sync_auth(t, o);
    if (auto v = t.boolean("idempotency_keys")) o.idempotency_keys = *v;
    if (auto tls = t.table("tls")) {
        if (auto v = tls->string("ca_file")) o.ca_file = *v;
        if (auto v = tls->string("client_cert_file")) o.client_cert_file = *v;
        if (auto v = tls->string("client_key_file")) o.client_key_file = *v;
        tls->finish();
    }
    if (auto v = t.choice("on_schema_change", {"rebaseline", "continue", "error"}))
        o.on_schema_change = *v == "continue" ? schema_change_action::continue_
                             : *v == "error"  ? schema_change_action::error
                                              : schema_change_action::rebaseline;
    if (o.base_url.empty()) return;
    try {
        // The library's own checks (a bad URL, a reserved header, two credentials, TLS
        // files with plain http...); its messages name the option, never a credential.
        o.validate();
    } catch (const std::exception& e) {
        t.problem_here(describe(e));
    }
}

void parse_replication_fanout(node_reader& t, target_config& out) {
    auto& o = out.fanout;
    if (auto v = t.strings("key_fields")) o.key_columns = *v;
    if (auto j = t.table("journal")) {
        if (auto v = j->integer("max_entries", 1, 1'000'000'000))
            o.journal.max_entries = static_cast<std::size_t>(*v);
        if (auto v = j->size("max_bytes")) {
            if (*v == 0)
                j->problem("max_bytes", "must be positive");
            else
                o.journal.max_bytes = static_cast<std::size_t>(*v);
        }
        if (auto v = j->duration("max_age")) o.journal.max_age = *v;
        j->finish();
    }
    if (auto s = t.table("snapshot")) {
        if (auto v = s->duration("interval")) o.snapshots.interval = *v;
        if (auto v = s->integer("keep_count", 0, 1'000'000))
            o.snapshots.keep_count = static_cast<std::size_t>(*v);
        if (auto v = s->duration("max_age")) o.snapshots.max_age = *v;
        s->finish();
    }
    if (auto v = t.integer("max_clients", 0, 1'000'000))
        o.clients.max_clients = static_cast<std::size_t>(*v);
    if (auto b = t.table("client_buffer")) {
        if (auto v = b->size("max_bytes")) {
            if (*v < 1024)
                b->problem("max_bytes", "must be at least 1024 bytes");
            else
                o.clients.queue_bytes = static_cast<std::size_t>(*v);
        }
        if (auto v = b->choice("policy", {"disconnect", "slow_down"}))
            o.clients.policy = *v == "slow_down" ? targets::fanout::slow_client_policy::slow_down
                                                 : targets::fanout::slow_client_policy::disconnect;
        if (auto v = b->integer("max_lag_entries", 1, 1'000'000'000))
            o.clients.max_lag_entries = static_cast<std::uint64_t>(*v);
        b->finish();
    }
    if (auto v = t.duration("heartbeat_interval")) {
        if (v->count() <= 0)
            t.problem("heartbeat_interval", "must be positive");
        else
            o.clients.heartbeat_interval = *v;
    }
    if (auto v = t.integer("snapshot_rows_per_message", 1, 1'000'000))
        o.clients.snapshot_rows_per_message = static_cast<std::size_t>(*v);
    if (auto v = t.integer("entries_per_message", 1, 1'000'000))
        o.clients.entries_per_message = static_cast<std::size_t>(*v);
}

}  // namespace laredo::server::config::detail
