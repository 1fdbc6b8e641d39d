#include "laredo/server/http/tls.hpp"

#include "laredo/error.hpp"

#include <openssl/ssl.h>

namespace laredo::server::http {

namespace ssl = boost::asio::ssl;

ssl::context make_tls_context(const config::tls_config& tls) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(tls.cert_path, ec);
    if (ec)
        throw error(errc::invalid_config, "api.tls.cert_path: cannot load certificate " +
                                              tls.cert_path + ": " + ec.message());
    ctx.use_private_key_file(tls.key_path, ssl::context::pem, ec);
    if (ec)
        throw error(errc::invalid_config, "api.tls.key_path: cannot load private key " +
                                              tls.key_path + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
        throw error(errc::invalid_config,
                    "api.tls: the private key does not match the certificate");
    return ctx;
}

}  // namespace laredo::server::http
