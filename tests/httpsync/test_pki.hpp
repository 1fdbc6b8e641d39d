#pragma once

// Certificates made in the test process (OpenSSL, EC P-256): a CA, a server certificate it
// signed for 127.0.0.1 and localhost, one it signed for another name, a client certificate
// it signed, and an unrelated CA.

#include <string>

namespace laredo::testing::httpsync {

struct test_pki {
    std::string ca_pem;
    std::string server_cert_pem;
    std::string server_key_pem;
    std::string client_cert_pem;
    std::string client_key_pem;
    std::string other_ca_pem;        // trusts nothing the server presents
    std::string elsewhere_cert_pem;  // signed by the CA, for DNS:elsewhere.example only
    std::string elsewhere_key_pem;
};

// Throws std::runtime_error naming the OpenSSL call that failed.
test_pki make_test_pki();

}  // namespace laredo::testing::httpsync
