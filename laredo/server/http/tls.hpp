#pragma once

#include "laredo/server/config/server_config.hpp"

#include <boost/asio/ssl/context.hpp>

namespace laredo::server::http {

// The TLS context of a listener: TLS 1.2 or newer, its certificate chain and private key.
// Throws laredo::error (invalid_config) naming the key whose file cannot be loaded, or saying
// that the key does not match the certificate: a bad certificate is an error, never ignored.
// The server uses it when it starts, and --check to find the same problems without starting.
boost::asio::ssl::context make_tls_context(const config::tls_config& tls);

}  // namespace laredo::server::http
