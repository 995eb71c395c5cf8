#include "auth/jwks.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "auth/support.hpp"

namespace users::auth {
namespace {

std::string set_of(const boost::json::array& keys) {
  return boost::json::serialize(boost::json::object{{"keys", keys}});
}

TEST(Jwks, TheThreeKeyTypesAreFoundByKid) {
  const auto rsa = testing::make_rsa_key("r");
  const auto ec = testing::make_ec_key("e");
  const auto ed = testing::make_ed25519_key("d");
  const auto keys = parse_jwks(testing::jwks_of({&rsa, &ec, &ed}));
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ((*keys)->size(), 3U);
  const std::string kid = "e";
  ASSERT_NE((*keys)->find(&kid), nullptr);
  EXPECT_EQ((*keys)->find(&kid)->type, KeyType::kP256);
  const std::string missing = "x";
  EXPECT_EQ((*keys)->find(&missing), nullptr);
  EXPECT_EQ((*keys)->find(nullptr), nullptr) << "no kid, three keys";
}

TEST(Jwks, KeysOfOtherTypesOrUsesAreSkipped) {
  const auto ec = testing::make_ec_key("e");
  auto encryption = testing::make_rsa_key("enc").jwk;
  encryption["use"] = "enc";
  const boost::json::array keys{ec.jwk,
                                encryption,
                                {{"kty", "oct"}, {"k", "c2VjcmV0"}},
                                {{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}}};
  const auto parsed = parse_jwks(set_of(keys));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ((*parsed)->size(), 1U);
}

TEST(Jwks, MalformedSetsAreErrors) {
  EXPECT_FALSE(parse_jwks("{"));
  EXPECT_FALSE(parse_jwks("[]"));
  EXPECT_FALSE(parse_jwks(R"({"keys":{}})"));
  EXPECT_FALSE(parse_jwks(R"({"keys":[]})")) << "no usable key";
  EXPECT_FALSE(parse_jwks(R"({"keys":[7]})"));
  EXPECT_FALSE(parse_jwks(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"not base64!"}]})"));
  EXPECT_FALSE(parse_jwks(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]})")) << "3 bytes";
  EXPECT_FALSE(parse_jwks(R"({"keys":[{"kty":"RSA","n":"AQAB"}]})")) << "no e";
}

TEST(Jwks, APointOffTheCurveIsAnError) {
  auto jwk = testing::make_ec_key("e").jwk;
  std::string y = *base64url_decode(jwk["y"].as_string());
  y[31] = static_cast<char>(y[31] ^ 1);
  jwk["y"] = base64url_encode(y);
  const auto parsed = parse_jwks(set_of({jwk}));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("keys[0]"), std::string::npos) << parsed.error();
}

TEST(Jwks, AShortRsaModulusIsAnError) {
  const auto small = testing::make_rsa_key("small", 1024);
  const auto parsed = parse_jwks(testing::jwks_of({&small}));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("2048"), std::string::npos) << parsed.error();
}

TEST(Jwks, AnRsaExponentOfOneIsAnError) {
  auto jwk = testing::make_rsa_key("weak").jwk;
  jwk["e"] = "AQ";  // 1
  const auto parsed = parse_jwks(set_of({jwk}));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("keys[0]"), std::string::npos) << parsed.error();
}

TEST(Jwks, AKidUsedTwiceIsAnError) {
  const auto a = testing::make_ed25519_key("same");
  const auto b = testing::make_ed25519_key("same");
  EXPECT_FALSE(parse_jwks(testing::jwks_of({&a, &b})));
}

TEST(Base64Url, DecodesWithoutPaddingAndRefusesOtherSpellings) {
  EXPECT_EQ(base64url_decode("").value(), "");
  EXPECT_EQ(base64url_decode("Zg").value(), "f");
  EXPECT_EQ(base64url_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64url_decode("Zm9v").value(), "foo");
  EXPECT_EQ(base64url_decode("-_8").value(), "\xfb\xff");
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("+/8"));
  EXPECT_FALSE(base64url_decode("Zm9v YmFy"));
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

}  // namespace
}  // namespace users::auth
