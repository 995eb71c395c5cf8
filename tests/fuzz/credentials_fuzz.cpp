// The Authorization header and what reads the credentials in it: the input
// is a header value. parse_authorization splits it (its credential must be a
// part of the header with no space or control in it), the token
// authenticator checks it against a tokens file of two clients, and the
// same bytes go through the token file's parser, both scope parsers and
// base64url (a value that decodes has exactly one spelling).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "auth/authenticator.hpp"
#include "auth/credentials.hpp"
#include "auth/openssl.hpp"
#include "auth/principal.hpp"
#include "auth/token_file.hpp"
#include "fuzz/temp_dir.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "credentials_fuzz: %s\n", what);
  std::abort();
}

std::string hex_sha256(std::string_view token) {
  const auto digest = users::auth::sha256(token);
  return users::auth::to_hex(digest.data(), digest.size());
}

// A tokens file for "reader" (token "fuzz-read-token") and "writer"
// ("fuzz-write-token"), in a directory of its own.
users::auth::Authenticator& authenticator() {
  static const users::fuzz::TempDir dir("users-api-fuzz-tokens");
  static const std::unique_ptr<users::auth::Authenticator> instance = [] {
    const std::string path = (dir.path() / "tokens.txt").string();
    std::ofstream(path) << "# fuzz clients\nreader users:read " << hex_sha256("fuzz-read-token")
                        << "\nwriter users:read,users:write " << hex_sha256("fuzz-write-token") << "\n";
    auto made = users::auth::make_token_authenticator(users::auth::TokenSettings{path}, users::auth::Events{});
    if (!made) fail(made.error().c_str());
    return std::move(*made);
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);

  if (const auto credentials = users::auth::parse_authorization(header)) {
    const std::string_view credential = credentials->credential;
    if (credential.empty()) fail("an empty credential");
    if (credential.data() < header.data() || credential.data() + credential.size() != header.data() + header.size()) {
      fail("the credential is not the end of the header");
    }
    for (const char c : credential) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) fail("a space or control in the credential");
    }
  }

  const auto principal = authenticator().authenticate(header);
  if (principal) {
    if (header.substr(header.find(' ') + 1) != "fuzz-read-token" &&
        header.substr(header.find(' ') + 1) != "fuzz-write-token") {
      fail("a credential that is no token was accepted");
    }
  } else if (header.empty() && principal.error() != users::auth::Failure::kMissing) {
    fail("no header is not a missing credential");
  }

  (void)users::auth::parse_token_file(header, "fuzz.txt");
  (void)users::auth::parse_token_file_scopes(header);
  (void)users::auth::parse_jwt_scopes(header);

  if (const auto decoded = users::auth::base64url_decode(header)) {
    if (users::auth::base64url_encode(*decoded) != header) fail("base64url: a value with two spellings");
  }
  if (users::auth::base64url_decode(users::auth::base64url_encode(header)) != std::string(header)) {
    fail("base64url: encode then decode is not the identity");
  }
  return 0;
}
