// Test helpers for auth/: keys generated on the spot, their JWKs, tokens
// signed with them, and a throwaway CA with an https server for JWKS URLs.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/openssl.hpp"

namespace users::auth::testing {

struct TestKey {
  PkeyPtr key;  // the private key
  std::string alg;
  std::string kid;
  boost::json::object jwk;  // the public half, as a JWKS lists it
};

TestKey make_rsa_key(std::string kid, int bits = 2048);
TestKey make_ec_key(std::string kid);
TestKey make_ed25519_key(std::string kid);

// {"keys":[...]}
std::string jwks_of(const std::vector<const TestKey*>& keys);

// A compact JWS over these exact header and payload texts.
std::string sign_jwt(const TestKey& key, std::string_view header_json, std::string_view payload_json);
// The same with {"alg": key.alg, "kid": key.kid, "typ": "JWT"} as the header.
std::string sign_jwt(const TestKey& key, const boost::json::object& claims);
// HMAC-SHA256 with `secret`, for the alg-confusion attack.
std::string sign_hs256(std::string_view header_json, std::string_view payload_json, std::string_view secret);
// SubjectPublicKeyInfo PEM of a key's public half.
std::string public_pem(const TestKey& key);

// A file removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view content);
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile(TempFile&&) = delete;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();
  void write(std::string_view content) const;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A CA and a server certificate it signed, for these names (OpenSSL's
// subjectAltName syntax).
struct TlsIdentity {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};
TlsIdentity make_tls_identity(const char* subject_alt_names = "IP:127.0.0.1,DNS:localhost");

// An https server on 127.0.0.1 (an ephemeral port) answering every request
// with the current status and body. Runs on its own thread.
class HttpsServer {
 public:
  explicit HttpsServer(const TlsIdentity& identity);
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;
  HttpsServer(HttpsServer&&) = delete;
  HttpsServer& operator=(HttpsServer&&) = delete;
  ~HttpsServer();

  void respond(unsigned status, std::string body);
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::uint64_t requests() const;
  // The TLS server name (SNI) of the last request, empty when none was sent.
  [[nodiscard]] std::string last_server_name() const;
  [[nodiscard]] std::string url(std::string_view path = "/jwks.json") const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace users::auth::testing
