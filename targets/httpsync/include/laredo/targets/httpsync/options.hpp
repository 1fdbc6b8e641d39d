#pragma once

#include "laredo/dead_letter_store.hpp"
#include "laredo/position.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace laredo::targets::httpsync {

class http_sync_observer;

// Everything an HTTP sync target is configured with: a plain aggregate with documented
// defaults, so a configuration file maps onto it key by key. validate() (also run by the
// target's constructor) refuses bad values with errc::invalid_config naming each problem.
// docs/httpsync.md describes the wire format these options shape.
struct http_sync_options {
    // ---- Endpoint ----

    // "http://host[:port][/prefix]" or "https://host[:port][/prefix]" (an IPv6 host in
    // brackets). Batches are POSTed to prefix + "/baseline/start", "/baseline/batch",
    // "/baseline/complete" and "/changes". Required.
    std::string base_url;

    // ---- Batching ----

    // A batch holds at most this many changes (or baseline rows)... >= 1.
    std::size_t batch_size = 100;
    // ...and at most this many bytes of JSON body (a single change larger than this goes
    // alone). >= 1024.
    std::size_t batch_bytes = 1u << 20;
    // A batch that is not full is sent once its first change has waited this long. > 0.
    // A transaction is never split across batches unless it alone exceeds the limits above.
    std::chrono::milliseconds flush_interval{1'000};

    // ---- Timeouts (each > 0) ----

    // Resolving, connecting and the TLS handshake of a new connection.
    std::chrono::milliseconds connect_timeout{10'000};
    // One attempt of one request: writing it and reading the whole response.
    std::chrono::milliseconds request_timeout{30'000};

    // ---- Retries ----

    // 5xx, 408, 429 and network errors (refused, reset, timed out) are retried this many
    // times after the first attempt (>= 0), waiting retry_initial_backoff doubling up to
    // retry_max_backoff, each wait spread by +-retry_jitter (a fraction in [0, 1]) so
    // targets do not retry in step. A Retry-After header (seconds or an HTTP date) is
    // honoured instead, up to max_retry_after. Other statuses (4xx, 3xx) and TLS
    // verification failures are not retried. The defaults give up after about 23 s.
    int max_retries = 8;
    std::chrono::milliseconds retry_initial_backoff{100};
    std::chrono::milliseconds retry_max_backoff{10'000};
    double retry_jitter = 0.2;
    std::chrono::milliseconds max_retry_after{60'000};

    // ---- Headers ----

    // Sent with every request. Names must be HTTP tokens, values printable; Host,
    // Content-Length, Content-Type, Transfer-Encoding, Connection, Authorization and
    // Idempotency-Key are set by the target and refused here.
    std::map<std::string, std::string> headers;

    // Authorization, at most one of these six. Literal values, environment variables and
    // files are read when the target is built (a missing variable or unreadable file is an
    // error naming it); a file is read again for every new connection, so a rotated token is
    // picked up. Trailing whitespace is dropped. Values never appear in errors or logs.
    std::string auth_header;        // the Authorization value as is ("Basic ...")
    std::string auth_header_env;    // an environment variable holding it
    std::string auth_header_file;   // a file holding it
    std::string bearer_token;       // sent as "Bearer <token>"
    std::string bearer_token_env;   // an environment variable holding the token
    std::string bearer_token_file;  // a file holding the token

    // Send an Idempotency-Key header with each batch: a random 128-bit key that stays the
    // same across the retries of that batch, so a receiver can drop a batch it already
    // applied (delivery is at least once).
    bool idempotency_keys = false;

    // ---- TLS (https only) ----

    // PEM file of the certificate authorities to verify the server with; empty: the
    // system's default store. Verification (chain and host name) is always on.
    std::string ca_file;
    // A client certificate and its key (PEM) for mutual TLS: both or neither.
    std::string client_cert_file;
    std::string client_key_file;

    // ---- Behaviour ----

    // What a change of the table's columns does: rebaseline (a new baseline/start with the
    // new columns and a full copy; an added column with a default produces no changes, so
    // only a new copy carries it), continue_ (later changes simply carry the new columns) or
    // error (the pipeline fails and waits for an operator).
    schema_change_action on_schema_change = schema_change_action::rebaseline;

    // ---- Failures ----

    // A batch of changes that still fails after its retries is written here, change by
    // change (in order, with everything queued behind it), filed under pipeline_id, before
    // the pipeline's error policy applies. Give the engine's store and the pipeline's id so
    // engine::async_replay_dead_letters(pipeline_id) can send them again. Null: not kept.
    std::shared_ptr<dead_letter_store> dead_letters;
    std::string pipeline_id;

    // How positions are written in payloads and dead letters: give the source's
    // position_to_string so receivers see the source's own form (PostgreSQL "0/16B3748:2").
    // Null: sequences as decimal, pairs as "major:minor", text as is.
    std::function<std::string(const position&)> format_position;

    // Hears about every batch sent, retry and failure (optional).
    std::shared_ptr<http_sync_observer> observer;

    // Throws laredo::error(errc::invalid_config) listing every problem found.
    void validate() const;
};

}  // namespace laredo::targets::httpsync
