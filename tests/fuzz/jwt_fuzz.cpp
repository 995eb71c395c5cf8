// JWT verification and the JWKS parser. The first byte picks what the rest
// of the input is:
//   0  a compact token, verified against a set of one RSA, one P-256 and one
//      Ed25519 key (kids "rsa", "ec", "ed");
//   1  a JOSE header and a claims set, one JSON text per line, signed here
//      with the key the header's kid names (the second byte picks one when
//      it names none) and then verified: claims, alg and kid checks are
//      reached with a signature that is right, so a verdict of "bad
//      signature" on a token signed by the key it names is a finding;
//   2  a JWKS document for parse_jwks.
// The keys are made at start-up (tests/auth/support.cpp, the auth tests'
// own helpers), so an input reproduces whatever the key.
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "auth/support.hpp"

namespace {
namespace testing = users::auth::testing;

struct Keys {
  testing::TestKey rsa = testing::make_rsa_key("rsa");
  testing::TestKey ec = testing::make_ec_key("ec");
  testing::TestKey ed = testing::make_ed25519_key("ed");
  std::shared_ptr<const users::auth::Jwks> jwks;
  users::auth::JwtPolicy policy{"https://issuer.example", "users-api", std::chrono::seconds(30)};
  // A fixed now, so that an input's exp and nbf mean the same on every run.
  std::chrono::system_clock::time_point now{std::chrono::seconds(1'700'000'000)};

  Keys() {
    auto parsed = users::auth::parse_jwks(testing::jwks_of({&rsa, &ec, &ed}));
    if (!parsed) {
      std::fprintf(stderr, "jwt_fuzz: the key set: %s\n", parsed.error().c_str());
      std::abort();
    }
    jwks = std::move(*parsed);
  }

  const testing::TestKey& named(std::string_view header_json, std::uint8_t pick) const {
    boost::system::error_code ec_ignored;
    const auto header = boost::json::parse(header_json, ec_ignored);
    if (!ec_ignored && header.is_object()) {
      if (const auto* kid = header.as_object().if_contains("kid"); kid != nullptr && kid->is_string()) {
        for (const auto* key : {&rsa, &ec, &ed}) {
          if (kid->as_string() == key->kid) return *key;
        }
      }
    }
    const testing::TestKey* const all[] = {&rsa, &ec, &ed};
    return *all[pick % 3];
  }
};

const Keys& keys() {
  static const Keys* const instance = new Keys();  // never destroyed: libFuzzer exits without unwinding
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Keys& k = keys();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: (void)users::auth::verify_jwt(rest, *k.jwks, k.policy, k.now); break;
    case 1: {
      if (rest.empty()) break;
      const std::string_view lines = rest.substr(1);
      const auto newline = lines.find('\n');
      if (newline == std::string_view::npos) break;
      const std::string_view header = lines.substr(0, newline);
      const std::string_view claims = lines.substr(newline + 1);
      const auto& key = k.named(header, static_cast<std::uint8_t>(rest[0]));
      const std::string token = testing::sign_jwt(key, header, claims);
      const auto verified = users::auth::verify_jwt(token, *k.jwks, k.policy, k.now);
      if (!verified && verified.error() == users::auth::JwtError::kBadSignature) {
        std::fprintf(stderr, "jwt_fuzz: signed by %s, refused as a bad signature: %s\n", key.kid.c_str(),
                     token.c_str());
        std::abort();
      }
      break;
    }
    default: (void)users::auth::parse_jwks(rest); break;
  }
  return 0;
}
