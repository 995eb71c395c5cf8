#include "auth/verified_cache.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "auth/jwt_authenticator.hpp"
#include "auth/support.hpp"

namespace users::auth {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

constexpr Clock::time_point kNow{seconds{1'800'000'000}};

std::shared_ptr<const Principal> principal(std::string name) {
  return std::make_shared<const Principal>(Principal{std::move(name), kRead});
}

TEST(VerifiedCache, AStoredTokenIsFoundUntilItExpires) {
  VerifiedCache cache;
  const Sha256 digest = sha256("token");
  cache.insert(digest, principal("a"), 1, kNow + seconds{10}, kNow);
  ASSERT_NE(cache.find(digest, 1, kNow), nullptr);
  EXPECT_EQ(cache.find(digest, 1, kNow + seconds{9})->name, "a");
  EXPECT_EQ(cache.find(digest, 1, kNow + seconds{10}), nullptr) << "an expired entry is not served";
  EXPECT_EQ(cache.size(), 0U) << "and is dropped";
}

TEST(VerifiedCache, AnotherKeySetGenerationMisses) {
  VerifiedCache cache;
  const Sha256 digest = sha256("token");
  cache.insert(digest, principal("a"), 1, kNow + seconds{10}, kNow);
  EXPECT_EQ(cache.find(digest, 2, kNow), nullptr);
  EXPECT_EQ(cache.find(sha256("other"), 1, kNow), nullptr);
}

TEST(VerifiedCache, StaysWithinItsCapacity) {
  VerifiedCache cache(64);
  for (int i = 0; i < 10000; ++i) cache.insert(sha256(std::to_string(i)), principal("a"), 1, kNow + seconds{60}, kNow);
  EXPECT_LE(cache.size(), 64U);
  EXPECT_NE(cache.find(sha256("9999"), 1, kNow), nullptr) << "the newest entry is kept";
}

// The cache as the JWT authenticator uses it.
class StaticKeys final : public KeySource {
 public:
  explicit StaticKeys(std::shared_ptr<const KeySet> keys) : keys_(std::move(keys)) {}
  [[nodiscard]] std::shared_ptr<const KeySet> current() const override { return keys_; }
  [[nodiscard]] std::optional<std::string> not_ready() const override { return std::nullopt; }
  void unknown_kid() override { ++unknown_kids; }
  void reload() override {}
  int unknown_kids = 0;

 private:
  std::shared_ptr<const KeySet> keys_;
};

struct CachedJwt : ::testing::Test {
  testing::TestKey key = testing::make_ec_key("k");
  Clock::time_point now = kNow;
  StaticKeys* source = nullptr;
  std::unique_ptr<JwtAuthenticator> auth;

  void SetUp() override {
    auto keys = std::make_shared<const KeySet>(KeySet{*parse_jwks(testing::jwks_of({&key})), 1});
    auto owned = std::make_unique<StaticKeys>(keys);
    source = owned.get();
    auth = std::make_unique<JwtAuthenticator>(JwtPolicy{"iss", "aud", seconds{0}}, std::move(owned), Events{},
                                              [this] { return now; });
  }
  [[nodiscard]] std::string token(std::int64_t exp_in) const {
    const auto epoch = std::chrono::duration_cast<seconds>(kNow.time_since_epoch()).count();
    return testing::sign_jwt(key, {{"iss", "iss"}, {"aud", "aud"}, {"sub", "s"}, {"exp", epoch + exp_in}});
  }
};

TEST_F(CachedJwt, ASecondAuthenticateOfTheSameTokenDoesNotVerifyAgain) {
  const std::string header = "Bearer " + token(60);
  ASSERT_TRUE(auth->authenticate(header));
  EXPECT_EQ(auth->signature_checks(), 1U);
  const auto again = auth->authenticate(header);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->name, "s");
  EXPECT_EQ(auth->signature_checks(), 1U);
}

TEST_F(CachedJwt, AnExpiredEntryIsNotServed) {
  const std::string header = "Bearer " + token(60);
  ASSERT_TRUE(auth->authenticate(header));
  now = kNow + seconds{60};
  const auto later = auth->authenticate(header);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), Failure::kInvalid);
  EXPECT_EQ(auth->signature_checks(), 2U);
}

TEST_F(CachedJwt, AnInvalidTokenIsNotCachedAndAnUnknownKidAsksForTheKeys) {
  const auto stranger = testing::make_ec_key("other");
  const std::string header =
      "Bearer " + testing::sign_jwt(stranger, {{"iss", "iss"}, {"aud", "aud"}, {"sub", "s"}, {"exp", 1'800'000'060}});
  EXPECT_EQ(auth->authenticate(header).error(), Failure::kInvalid);
  EXPECT_EQ(auth->authenticate(header).error(), Failure::kInvalid);
  EXPECT_EQ(auth->signature_checks(), 2U);
  EXPECT_EQ(source->unknown_kids, 2) << "the source decides how often to refetch";
}

TEST_F(CachedJwt, OnlyTheBearerSchemeCounts) {
  EXPECT_EQ(auth->authenticate("Token " + token(60)).error(), Failure::kMissing);
  EXPECT_EQ(auth->authenticate("").error(), Failure::kMissing);
  EXPECT_EQ(auth->challenge(), "Bearer realm=\"api\"");
}

JwtSettings jwt_settings(std::string file, std::string issuer, std::string audience, std::string url = {}) {
  JwtSettings out;
  out.jwks_file = std::move(file);
  out.jwks_url = std::move(url);
  out.issuer = std::move(issuer);
  out.audience = std::move(audience);
  return out;
}

TEST(JwtSettingsCheck, IssuerAudienceAndOneKeySourceAreRequired) {
  EXPECT_FALSE(make_jwt_authenticator(jwt_settings("/x", "", "a"), {}));
  EXPECT_FALSE(make_jwt_authenticator(jwt_settings("/x", "i", ""), {}));
  EXPECT_FALSE(make_jwt_authenticator(jwt_settings("", "i", "a"), {}));
  EXPECT_FALSE(make_jwt_authenticator(jwt_settings("/x", "i", "a", "https://a/"), {}));
  const auto missing = make_jwt_authenticator(jwt_settings("/nonexistent.json", "i", "a"), {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("/nonexistent.json"), std::string::npos);
  const auto http = make_jwt_authenticator(jwt_settings("", "i", "a", "http://idp.example/jwks"), {});
  ASSERT_FALSE(http);
  EXPECT_NE(http.error().find("https"), std::string::npos);
}

TEST(JwtSettingsCheck, AJwksFileIsReadAtStartAndOnReload) {
  const auto first = testing::make_ed25519_key("one");
  const auto second = testing::make_ed25519_key("two");
  const testing::TempFile file(testing::jwks_of({&first}));
  auto made = make_jwt_authenticator(jwt_settings(file.path(), "iss", "aud"), {});
  ASSERT_TRUE(made) << made.error();
  auto& auth = **made;
  const auto header = [](const testing::TestKey& key) {
    const auto exp = std::chrono::duration_cast<seconds>(Clock::now().time_since_epoch()).count() + 600;
    return "Bearer " + testing::sign_jwt(key, {{"iss", "iss"}, {"aud", "aud"}, {"sub", "s"}, {"exp", exp}});
  };
  EXPECT_TRUE(auth.authenticate(header(first)));
  EXPECT_FALSE(auth.authenticate(header(second)));
  file.write("not json");
  auth.reload();
  EXPECT_TRUE(auth.authenticate(header(first))) << "a broken file keeps the keys in use";
  file.write(testing::jwks_of({&second}));
  auth.reload();
  EXPECT_TRUE(auth.authenticate(header(second)));
  EXPECT_FALSE(auth.authenticate(header(first)));
  EXPECT_FALSE(auth.not_ready());
}

}  // namespace
}  // namespace users::auth
