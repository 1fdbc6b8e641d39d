#include "test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace laredo::testing::httpsync {

namespace {

struct key_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct cert_free {
    void operator()(X509* x) const { X509_free(x); }
};
struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;
using cert_ptr = std::unique_ptr<X509, cert_free>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
}

key_ptr new_key() {
    key_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    const int added = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(added == 1, "X509_add_ext");
}

// A certificate for `key` named `cn`, signed by issuer_key (self-signed when issuer is null).
cert_ptr make_cert(EVP_PKEY* key, const char* cn, long serial, X509* issuer, EVP_PKEY* issuer_key,
                   bool ca, const char* alt_names, const char* usage) {
    cert_ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365) != nullptr, "notAfter");
    check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) == 1,
          "subject");
    X509* signer = issuer ? issuer : cert.get();
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer");
    if (ca) {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
    } else {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(cert.get(), signer, NID_ext_key_usage, usage);
        if (alt_names) add_extension(cert.get(), signer, NID_subject_alt_name, alt_names);
    }
    check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

std::string pem_of(X509* cert) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(EVP_PKEY* key) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

test_pki make_test_pki() {
    test_pki pki;
    auto ca_key = new_key();
    auto ca = make_cert(ca_key.get(), "laredo httpsync test CA", 1, nullptr, nullptr, true, nullptr,
                        nullptr);
    auto server_key = new_key();
    auto server = make_cert(server_key.get(), "localhost", 2, ca.get(), ca_key.get(), false,
                            "DNS:localhost,IP:127.0.0.1", "serverAuth");
    auto client_key = new_key();
    auto client = make_cert(client_key.get(), "laredo client", 3, ca.get(), ca_key.get(), false,
                            nullptr, "clientAuth");
    auto elsewhere_key = new_key();
    auto elsewhere = make_cert(elsewhere_key.get(), "elsewhere.example", 5, ca.get(), ca_key.get(),
                               false, "DNS:elsewhere.example", "serverAuth");
    auto other_key = new_key();
    auto other = make_cert(other_key.get(), "laredo unrelated CA", 4, nullptr, nullptr, true,
                           nullptr, nullptr);
    pki.ca_pem = pem_of(ca.get());
    pki.server_cert_pem = pem_of(server.get());
    pki.server_key_pem = pem_of(server_key.get());
    pki.client_cert_pem = pem_of(client.get());
    pki.client_key_pem = pem_of(client_key.get());
    pki.other_ca_pem = pem_of(other.get());
    pki.elsewhere_cert_pem = pem_of(elsewhere.get());
    pki.elsewhere_key_pem = pem_of(elsewhere_key.get());
    return pki;
}

}  // namespace laredo::testing::httpsync
