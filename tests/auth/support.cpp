#include "auth/support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <unistd.h>

namespace users::auth::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(fmt::format("{}: {}", what, openssl_error()));
}

struct BnFree {
  void operator()(BIGNUM* n) const noexcept { BN_free(n); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::string bn_bytes(const BIGNUM* n, int size = 0) {
  const int length = size > 0 ? size : BN_num_bytes(n);
  std::string out(static_cast<std::size_t>(length), '\0');
  check(BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), length) == length, "BN_bn2binpad");
  return out;
}

Bn bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &n) == 1, name);
  return Bn(n);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(size)};
}

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

}  // namespace

TestKey make_rsa_key(std::string kid, int bits) {
  TestKey out{PkeyPtr(EVP_RSA_gen(static_cast<unsigned>(bits))), "RS256", std::move(kid), {}};
  check(out.key != nullptr, "EVP_RSA_gen");
  out.jwk = {{"kty", "RSA"},
             {"kid", out.kid},
             {"use", "sig"},
             {"n", base64url_encode(bn_bytes(bn_param(out.key.get(), OSSL_PKEY_PARAM_RSA_N).get()))},
             {"e", base64url_encode(bn_bytes(bn_param(out.key.get(), OSSL_PKEY_PARAM_RSA_E).get()))}};
  return out;
}

TestKey make_ec_key(std::string kid) {
  TestKey out{PkeyPtr(EVP_EC_gen("P-256")), "ES256", std::move(kid), {}};
  check(out.key != nullptr, "EVP_EC_gen");
  out.jwk = {{"kty", "EC"},
             {"crv", "P-256"},
             {"kid", out.kid},
             {"x", base64url_encode(bn_bytes(bn_param(out.key.get(), OSSL_PKEY_PARAM_EC_PUB_X).get(), 32))},
             {"y", base64url_encode(bn_bytes(bn_param(out.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y).get(), 32))}};
  return out;
}

TestKey make_ed25519_key(std::string kid) {
  TestKey out{PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")), "EdDSA", std::move(kid), {}};
  check(out.key != nullptr, "EVP_PKEY_Q_keygen");
  std::string raw(32, '\0');
  std::size_t size = raw.size();
  check(EVP_PKEY_get_raw_public_key(out.key.get(), reinterpret_cast<unsigned char*>(raw.data()), &size) == 1,
        "EVP_PKEY_get_raw_public_key");
  out.jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", out.kid}, {"x", base64url_encode(raw)}};
  return out;
}

std::string jwks_of(const std::vector<const TestKey*>& keys) {
  boost::json::array list;
  for (const auto* key : keys) list.push_back(key->jwk);
  return boost::json::serialize(boost::json::object{{"keys", std::move(list)}});
}

std::string sign_jwt(const TestKey& key, std::string_view header_json, std::string_view payload_json) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = key.alg == "EdDSA" ? nullptr : EVP_sha256();
  check(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.key.get()) == 1, "EVP_DigestSignInit");
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  check(EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) == 1, "EVP_DigestSign");
  std::string signature(size, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data, input.size()) == 1,
        "EVP_DigestSign");
  signature.resize(size);
  if (key.alg == "ES256") {
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    check(sig != nullptr, "d2i_ECDSA_SIG");
    signature = bn_bytes(ECDSA_SIG_get0_r(sig), 32) + bn_bytes(ECDSA_SIG_get0_s(sig), 32);
    ECDSA_SIG_free(sig);
  }
  return input + "." + base64url_encode(signature);
}

std::string sign_jwt(const TestKey& key, const boost::json::object& claims) {
  const boost::json::object header{{"alg", key.alg}, {"kid", key.kid}, {"typ", "JWT"}};
  return sign_jwt(key, boost::json::serialize(header), boost::json::serialize(claims));
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json, std::string_view secret) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  check(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size) != nullptr,
        "HMAC");
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), size));
}

std::string public_pem(const TestKey& key) {
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PUBKEY(bio.get(), key.key.get()) == 1, "PEM_write_bio_PUBKEY");
  return bio_text(bio.get());
}

TempFile::TempFile(std::string_view content) {
  static std::atomic<unsigned> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          fmt::format("users-api-auth-{}-{}-{}", ::getpid(), std::random_device{}(), counter++);
  write(content);
}

TempFile::~TempFile() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void TempFile::write(std::string_view content) const {
  // Written aside and renamed, so that a reader never sees half a file.
  const auto aside = path_.string() + ".new";
  {
    std::ofstream out(aside, std::ios::binary | std::ios::trunc);
    out << content;
  }
  std::filesystem::rename(aside, path_);
}

namespace {

std::unique_ptr<X509, X509Free> make_certificate(EVP_PKEY* key, const char* common_name, X509* issuer,
                                                 EVP_PKEY* issuer_key, long serial,
                                                 const std::vector<std::pair<int, const char*>>& extensions) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  check(cert && X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  check(X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
        "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(extension != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string cert_pem(X509* cert) {
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return bio_text(bio.get());
}

}  // namespace

TlsIdentity make_tls_identity(const char* subject_alt_names) {
  const PkeyPtr ca_key(EVP_EC_gen("P-256"));
  const PkeyPtr server_key(EVP_EC_gen("P-256"));
  check(ca_key && server_key, "EVP_EC_gen");
  const auto ca = make_certificate(ca_key.get(), "users-api test CA", nullptr, ca_key.get(), 1,
                                   {{NID_basic_constraints, "critical,CA:TRUE"},
                                    {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                    {NID_subject_key_identifier, "hash"}});
  const auto server = make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), 2,
                                       {{NID_basic_constraints, "CA:FALSE"},
                                        {NID_key_usage, "critical,digitalSignature"},
                                        {NID_ext_key_usage, "serverAuth"},
                                        {NID_subject_alt_name, subject_alt_names},
                                        {NID_authority_key_identifier, "keyid"}});
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), server_key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return {cert_pem(ca.get()), cert_pem(server.get()), bio_text(bio.get())};
}

struct HttpsServer::Impl {
  asio::ssl::context tls{asio::ssl::context::tls_server};
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  mutable std::mutex mutex;
  unsigned status = 200;
  std::string body;
  std::string server_name;
  std::atomic<std::uint64_t> requests{0};
  std::uint16_t port = 0;
  std::thread thread;

  asio::awaitable<void> session(asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), tls);
    co_await stream.async_handshake(asio::ssl::stream_base::server, token);
    if (ec) co_return;
    {
      const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      const std::lock_guard lock(mutex);
      server_name = name != nullptr ? name : "";
    }
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request, token);
    if (ec) co_return;
    requests.fetch_add(1);
    http::response<http::string_body> response;
    {
      const std::lock_guard lock(mutex);
      response.result(status);
      response.body() = body;
    }
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, token);
    co_await stream.async_shutdown(token);
  }

  asio::awaitable<void> accept() {
    while (true) {
      boost::system::error_code ec;
      auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }
};

HttpsServer::HttpsServer(const TlsIdentity& identity) : impl_(std::make_unique<Impl>()) {
  impl_->tls.use_certificate_chain(asio::buffer(identity.cert_pem));
  impl_->tls.use_private_key(asio::buffer(identity.key_pem), asio::ssl::context::pem);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

HttpsServer::~HttpsServer() {
  impl_->io.stop();
  impl_->thread.join();
}

void HttpsServer::respond(unsigned status, std::string body) {
  const std::lock_guard lock(impl_->mutex);
  impl_->status = status;
  impl_->body = std::move(body);
}

std::uint16_t HttpsServer::port() const {
  return impl_->port;
}
std::string HttpsServer::last_server_name() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->server_name;
}
std::uint64_t HttpsServer::requests() const {
  return impl_->requests.load();
}
std::string HttpsServer::url(std::string_view path) const {
  return fmt::format("https://127.0.0.1:{}{}", port(), path);
}

}  // namespace users::auth::testing
