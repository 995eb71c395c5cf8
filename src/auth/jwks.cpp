#include "auth/jwks.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <optional>

namespace users::auth {
namespace {

struct BnDeleter {
  void operator()(BIGNUM* n) const noexcept { BN_free(n); }
};
struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

using Result = boost::system::result<Jwk, std::string>;

const boost::json::string* string_member(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr ? value->if_string() != nullptr ? &value->get_string() : nullptr : nullptr;
}

// A base64url member decoded; the error names it.
boost::system::result<std::string, std::string> bytes_member(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return {boost::system::in_place_error, fmt::format("no \"{}\" string", name)};
  }
  auto bytes = base64url_decode(value->get_string());
  if (!bytes || bytes->empty()) return {boost::system::in_place_error, fmt::format("\"{}\" is not base64url", name)};
  return {boost::system::in_place_value, std::move(*bytes)};
}

boost::system::result<PkeyPtr, std::string> from_data(const char* type, OSSL_PARAM_BLD* builder) {
  const std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(builder));
  const std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return "not a usable public key: " + openssl_error();
  }
  return PkeyPtr(key);
}

boost::system::result<PkeyPtr, std::string> rsa_key(const boost::json::object& jwk) {
  auto n = bytes_member(jwk, "n");
  if (!n) return n.error();
  auto e = bytes_member(jwk, "e");
  if (!e) return e.error();
  // Under 2048 bits, RSA is breakable by a determined attacker (NIST SP 800-131A).
  const std::size_t first = n->find_first_not_of('\0');
  if (first == std::string::npos || (n->size() - first) * 8 < 2048)
    return std::string{"an RSA modulus under 2048 bits"};
  const auto bn = [](const std::string& bytes) {
    return std::unique_ptr<BIGNUM, BnDeleter>(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
  };
  const auto modulus = bn(*n);
  const auto exponent = bn(*e);
  const std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> builder(OSSL_PARAM_BLD_new());
  if (!modulus || !exponent || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    return "cannot build the key: " + openssl_error();
  }
  auto key = from_data("RSA", builder.get());
  if (!key) return key;
  // SP 800-56B's public key checks: an even or tiny exponent (e = 1 makes
  // every message its own signature) or a modulus with small factors.
  const std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return "not a sound RSA public key: " + openssl_error();
  return key;
}

boost::system::result<PkeyPtr, std::string> p256_key(const boost::json::object& jwk) {
  auto x = bytes_member(jwk, "x");
  if (!x) return x.error();
  auto y = bytes_member(jwk, "y");
  if (!y) return y.error();
  if (x->size() != 32 || y->size() != 32) return std::string{"P-256 coordinates must be 32 bytes each"};
  // SEC 1's uncompressed point: 0x04 || x || y.
  std::string point = "\x04" + *x + *y;
  const std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return "cannot build the key: " + openssl_error();
  }
  auto key = from_data("EC", builder.get());
  if (!key) return key;
  // A point off the curve would open an invalid-curve attack.
  const std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return "not a point on P-256: " + openssl_error();
  return key;
}

boost::system::result<PkeyPtr, std::string> ed25519_key(const boost::json::object& jwk) {
  auto x = bytes_member(jwk, "x");
  if (!x) return x.error();
  if (x->size() != 32) return std::string{"an Ed25519 key must be 32 bytes"};
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (key == nullptr) return "not a usable Ed25519 key: " + openssl_error();
  return PkeyPtr(key);
}

// nullopt: a key of a type or use this service does not verify with.
std::optional<Result> parse_key(const boost::json::object& jwk) {
  const boost::json::string* kty = string_member(jwk, "kty");
  if (kty == nullptr) return Result{boost::system::in_place_error, "no \"kty\" string"};
  if (const boost::json::string* use = string_member(jwk, "use"); use != nullptr && *use != "sig") return std::nullopt;
  const boost::json::string* crv = string_member(jwk, "crv");
  KeyType type{};
  boost::system::result<PkeyPtr, std::string> key = std::string{};
  if (*kty == "RSA") {
    type = KeyType::kRsa;
    key = rsa_key(jwk);
  } else if (*kty == "EC" && crv != nullptr && *crv == "P-256") {
    type = KeyType::kP256;
    key = p256_key(jwk);
  } else if (*kty == "OKP" && crv != nullptr && *crv == "Ed25519") {
    type = KeyType::kEd25519;
    key = ed25519_key(jwk);
  } else {
    return std::nullopt;
  }
  if (!key) return Result{boost::system::in_place_error, key.error()};
  const boost::json::string* kid = string_member(jwk, "kid");
  const boost::json::string* alg = string_member(jwk, "alg");
  return Result{Jwk{kid != nullptr ? std::string{*kid} : std::string{}, type,
                    alg != nullptr ? std::string{*alg} : std::string{}, std::move(*key)}};
}

}  // namespace

const Jwk* Jwks::find(const std::string* kid) const {
  if (kid == nullptr) return keys_.size() == 1 ? keys_.data() : nullptr;
  for (const auto& key : keys_) {
    if (key.kid == *kid) return &key;
  }
  return nullptr;
}

boost::system::result<std::shared_ptr<const Jwks>, std::string> parse_jwks(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value document = boost::json::parse(json, ec);
  if (ec) return "not JSON: " + ec.message();
  const auto* keys = document.is_object() ? document.get_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) return std::string{"not a JWKS: no \"keys\" array"};
  std::vector<Jwk> parsed;
  std::size_t index = 0;
  for (const auto& entry : keys->get_array()) {
    const auto fail = [&](std::string_view why) { return fmt::format("keys[{}]: {}", index, why); };
    if (!entry.is_object()) return fail("not an object");
    auto key = parse_key(entry.get_object());
    if (key && !*key) return fail(key->error());
    if (key) {
      for (const auto& other : parsed) {
        if (other.kid == (*key)->kid) return fail(fmt::format("the kid \"{}\" is used twice", other.kid));
      }
      parsed.push_back(std::move(**key));
    }
    ++index;
  }
  if (parsed.empty()) return std::string{"no RS256, ES256 or EdDSA signing key in the set"};
  return std::make_shared<const Jwks>(std::move(parsed));
}

}  // namespace users::auth
