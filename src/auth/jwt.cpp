#include "auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <optional>

namespace users::auth {
namespace {

using boost::json::object;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

std::optional<object> decode_object(std::string_view part) {
  const auto bytes = base64url_decode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

// The key type an alg needs; nullopt for an alg this service refuses.
std::optional<KeyType> key_type_for(std::string_view alg) {
  if (alg == "RS256") return KeyType::kRsa;
  if (alg == "ES256") return KeyType::kP256;
  if (alg == "EdDSA") return KeyType::kEd25519;
  return std::nullopt;
}

// JWS ES256 carries r || s, 32 bytes each (RFC 7518 section 3.4); OpenSSL
// verifies the DER form.
std::optional<std::string> ecdsa_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

bool signature_verifies(const Jwk& key, std::string_view signing_input, std::string_view signature) {
  std::string der;
  if (key.type == KeyType::kP256) {
    auto converted = ecdsa_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  // Ed25519 hashes inside the algorithm: no digest, and one-shot only.
  const EVP_MD* md = key.type == KeyType::kEd25519 ? nullptr : EVP_sha256();
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  // A failed check leaves its reason on this thread's error queue.
  ERR_clear_error();
  return ok;
}

// NumericDate (RFC 7519 section 2): seconds since the epoch, maybe fractional.
std::optional<std::chrono::system_clock::time_point> numeric_date(const boost::json::value& value) {
  double seconds = 0;
  if (value.is_int64()) {
    seconds = static_cast<double>(value.get_int64());
  } else if (value.is_uint64()) {
    seconds = static_cast<double>(value.get_uint64());
  } else if (value.is_double()) {
    seconds = value.get_double();
  } else {
    return std::nullopt;
  }
  // The clock counts nanoseconds in 64 bits, which ends in 2262: a date past
  // about 2255 (or before 1685) would overflow when converted or when the
  // leeway (a day at most) is added, so it is malformed. (The bound was year
  // 10000, and an exp of 9399939800 overflowed: found by tests/fuzz, jwt.)
  constexpr double kLimit = 9e9;
  if (!(seconds > -kLimit && seconds < kLimit)) return std::nullopt;
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds))};
}

bool audience_matches(const boost::json::value& aud, std::string_view audience) {
  if (aud.is_string()) return aud.get_string() == audience;
  if (!aud.is_array()) return false;
  const auto& list = aud.get_array();
  return std::any_of(list.begin(), list.end(), [&](const boost::json::value& entry) {
    return entry.is_string() && entry.get_string() == audience;
  });
}

std::optional<Scopes> scopes_of(const object& claims) {
  Scopes scopes = 0;
  if (const auto* scope = claims.if_contains("scope")) {
    if (!scope->is_string()) return std::nullopt;
    scopes |= parse_jwt_scopes(scope->get_string());
  }
  if (const auto* scp = claims.if_contains("scp")) {
    if (scp->is_string()) {
      scopes |= parse_jwt_scopes(scp->get_string());  // Azure AD's spelling
    } else if (scp->is_array()) {
      for (const auto& entry : scp->get_array()) {
        if (!entry.is_string()) return std::nullopt;
        scopes |= parse_jwt_scopes(entry.get_string());
      }
    } else {
      return std::nullopt;
    }
  }
  return scopes;
}

}  // namespace

std::string_view to_string(JwtError error) {
  switch (error) {
    case JwtError::kMalformed: return "malformed token";
    case JwtError::kUnsupportedAlg: return "unsupported alg";
    case JwtError::kUnknownKid: return "unknown kid";
    case JwtError::kKeyMismatch: return "alg does not fit the key";
    case JwtError::kBadSignature: return "bad signature";
    case JwtError::kExpired: return "expired";
    case JwtError::kNotYetValid: return "not yet valid";
    case JwtError::kWrongIssuer: return "wrong issuer";
    case JwtError::kWrongAudience: return "wrong audience";
    case JwtError::kNoSubject: return "no sub";
  }
  return "unknown";
}

boost::system::result<VerifiedJwt, JwtError> verify_jwt(std::string_view token, const Jwks& keys,
                                                        const JwtPolicy& policy,
                                                        std::chrono::system_clock::time_point now) {
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return JwtError::kMalformed;
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const auto header = decode_object(header_part);
  if (!header) return JwtError::kMalformed;

  // The alg is taken from the header only to be matched against a fixed
  // list and against the key: never "none", never a MAC keyed with a public
  // key (the RS256-to-HS256 confusion, CVE-2015-9235 and kin).
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return JwtError::kMalformed;
  const auto needed = key_type_for(alg->get_string());
  if (!needed) return JwtError::kUnsupportedAlg;
  // RFC 7515 section 4.1.11: an extension this verifier does not know must
  // make the token invalid.
  if (header->contains("crit")) return JwtError::kUnsupportedAlg;
  const auto* kid_value = header->if_contains("kid");
  if (kid_value != nullptr && !kid_value->is_string()) return JwtError::kMalformed;
  std::string kid;
  if (kid_value != nullptr) kid = kid_value->get_string();
  const Jwk* key = keys.find(kid_value != nullptr ? &kid : nullptr);
  if (key == nullptr) return JwtError::kUnknownKid;
  if (key->type != *needed || (!key->alg.empty() && key->alg != alg->get_string())) return JwtError::kKeyMismatch;

  const auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!signature) return JwtError::kMalformed;
  if (!signature_verifies(*key, token.substr(0, second_dot), *signature)) return JwtError::kBadSignature;

  // Claims are read only once the signature holds.
  const auto claims = decode_object(payload_part);
  if (!claims) return JwtError::kMalformed;
  const auto* exp = claims->if_contains("exp");
  if (exp == nullptr) return JwtError::kExpired;  // a token without exp would be valid forever
  const auto expires = numeric_date(*exp);
  if (!expires) return JwtError::kMalformed;
  const auto valid_until = *expires + policy.leeway;
  if (now >= valid_until) return JwtError::kExpired;
  if (const auto* nbf = claims->if_contains("nbf")) {
    const auto not_before = numeric_date(*nbf);
    if (!not_before) return JwtError::kMalformed;
    if (now < *not_before - policy.leeway) return JwtError::kNotYetValid;
  }
  const auto* iss = claims->if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != policy.issuer) return JwtError::kWrongIssuer;
  const auto* aud = claims->if_contains("aud");
  if (aud == nullptr || !audience_matches(*aud, policy.audience)) return JwtError::kWrongAudience;
  const auto* sub = claims->if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty()) return JwtError::kNoSubject;
  const auto scopes = scopes_of(*claims);
  if (!scopes) return JwtError::kMalformed;
  return VerifiedJwt{Principal{std::string{sub->get_string()}, *scopes}, valid_until};
}

}  // namespace users::auth
