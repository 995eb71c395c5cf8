// One compact JWS (RFC 7515) access token, verified against a JWKS: the
// signature (RS256, ES256 or EdDSA, nothing else), then exp, nbf, iss, aud.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "auth/jwks.hpp"
#include "auth/principal.hpp"

namespace users::auth {

enum class JwtError {
  kMalformed,       // not three base64url parts of JSON objects, or a claim of the wrong type
  kUnsupportedAlg,  // none, HS*, or anything but RS256, ES256, EdDSA; or a crit header
  kUnknownKid,      // no key in the set for the token's kid
  kKeyMismatch,     // the alg does not fit the key (RS256 with an EC key...)
  kBadSignature,
  kExpired,      // exp + leeway is past, or no exp
  kNotYetValid,  // nbf - leeway is ahead
  kWrongIssuer,
  kWrongAudience,
  kNoSubject,
};
std::string_view to_string(JwtError error);

struct JwtPolicy {
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{30};
};

struct VerifiedJwt {
  Principal principal;  // sub, and scope (space-separated) or scp (an array)
  // The last instant the token is accepted (exp + leeway).
  std::chrono::system_clock::time_point valid_until;
};

boost::system::result<VerifiedJwt, JwtError> verify_jwt(std::string_view token, const Jwks& keys,
                                                        const JwtPolicy& policy,
                                                        std::chrono::system_clock::time_point now);

}  // namespace users::auth
