// A JSON Web Key Set (RFC 7517): the identity provider's public keys, by kid.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/openssl.hpp"

namespace users::auth {

// The three key types this service verifies with; each fits one alg.
enum class KeyType {
  kRsa,      // kty RSA, alg RS256
  kP256,     // kty EC, crv P-256, alg ES256
  kEd25519,  // kty OKP, crv Ed25519, alg EdDSA
};

struct Jwk {
  std::string kid;  // may be empty when the set holds one key
  KeyType type;
  std::string alg;  // the key's own alg member, empty when absent
  PkeyPtr key;
};

class Jwks {
 public:
  explicit Jwks(std::vector<Jwk> keys) : keys_(std::move(keys)) {}

  // The key a token's kid names; without a kid, the only key of a one-key
  // set. nullptr when there is no such key.
  [[nodiscard]] const Jwk* find(const std::string* kid) const;
  [[nodiscard]] std::size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// Keys of other types or curves, and keys marked "use":"enc", are skipped
// (providers publish them for other clients); a set left with no key, a
// malformed key of a known type, an RSA modulus under 2048 bits or a kid used
// twice is an error.
boost::system::result<std::shared_ptr<const Jwks>, std::string> parse_jwks(std::string_view json);

}  // namespace users::auth
