#include "auth/token_authenticator.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "auth/support.hpp"
#include "auth/token_generator.hpp"

namespace users::auth {
namespace {

using testing::TempFile;

std::string line_for(std::string_view name, std::string_view scopes, std::string_view token) {
  const Sha256 digest = sha256(token);
  return std::string{name} + " " + std::string{scopes} + " " + to_hex(digest.data(), digest.size()) + "\n";
}

struct Recorded {
  std::mutex mutex;
  std::vector<std::string> lines;
  Events events() {
    Events out;
    out.notify = [this](Events::Severity, std::string_view what, std::string_view detail) {
      const std::lock_guard lock(mutex);
      lines.push_back(std::string{what} + ": " + std::string{detail});
    };
    return out;
  }
};

std::unique_ptr<Authenticator> authenticator_for(const TempFile& file, Events events = {}) {
  auto made = make_token_authenticator(TokenSettings{file.path()}, std::move(events));
  EXPECT_TRUE(made) << (made ? "" : made.error());
  return made ? std::move(*made) : nullptr;
}

TEST(TokenAuthenticator, BearerAndTokenSchemesGiveThePrincipal) {
  const TempFile file(line_for("reader", "users:read", "secret-one") +
                      line_for("writer", "users:read,users:write", "secret-two"));
  const auto auth = authenticator_for(file);
  ASSERT_TRUE(auth);
  const auto bearer = auth->authenticate("Bearer secret-one");
  ASSERT_TRUE(bearer);
  EXPECT_EQ((*bearer)->name, "reader");
  EXPECT_EQ((*bearer)->scopes, kRead);
  const auto token = auth->authenticate("Token secret-two");
  ASSERT_TRUE(token);
  EXPECT_EQ((*token)->name, "writer");
  EXPECT_EQ((*token)->scopes, kRead | kWrite);
  EXPECT_EQ(auth->challenge(), "Token");
  EXPECT_FALSE(auth->not_ready());
}

TEST(TokenAuthenticator, AnUnknownTokenIsInvalid) {
  const TempFile file(line_for("reader", "users:read", "secret-one"));
  const auto auth = authenticator_for(file);
  ASSERT_TRUE(auth);
  const auto result = auth->authenticate("Bearer secret-onE");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), Failure::kInvalid);
  EXPECT_EQ(auth->authenticate("Token " + std::string(64, 'a')).error(), Failure::kInvalid);
}

TEST(TokenAuthenticator, AMissingOrUnknownSchemeIsMissing) {
  const TempFile file(line_for("reader", "users:read", "secret-one"));
  const auto auth = authenticator_for(file);
  ASSERT_TRUE(auth);
  for (const char* header : {"", "secret-one", "Basic secret-one", "Bearer", "Bearer secret-one extra"}) {
    const auto result = auth->authenticate(header);
    ASSERT_FALSE(result) << header;
    EXPECT_EQ(result.error(), Failure::kMissing) << header;
  }
}

TEST(TokenAuthenticator, ReloadRotatesTheTokens) {
  const TempFile file(line_for("reader", "users:read", "old-secret"));
  Recorded recorded;
  const auto auth = authenticator_for(file, recorded.events());
  ASSERT_TRUE(auth);
  ASSERT_TRUE(auth->authenticate("Bearer old-secret"));
  file.write(line_for("reader", "users:read", "new-secret"));
  EXPECT_TRUE(auth->authenticate("Bearer old-secret")) << "nothing changes before the reload";
  auth->reload();
  EXPECT_EQ(auth->authenticate("Bearer old-secret").error(), Failure::kInvalid);
  EXPECT_TRUE(auth->authenticate("Bearer new-secret"));
  ASSERT_EQ(recorded.lines.size(), 1U);
  EXPECT_EQ(recorded.lines[0].find("new-secret"), std::string::npos);
}

TEST(TokenAuthenticator, ABrokenFileOnReloadKeepsTheOldSetAndSaysWhy) {
  const TempFile file(line_for("reader", "users:read", "old-secret"));
  Recorded recorded;
  const auto auth = authenticator_for(file, recorded.events());
  ASSERT_TRUE(auth);
  file.write(line_for("reader", "users:read", "new-secret") + "broken line\n");
  auth->reload();
  EXPECT_TRUE(auth->authenticate("Bearer old-secret"));
  EXPECT_EQ(auth->authenticate("Bearer new-secret").error(), Failure::kInvalid);
  ASSERT_EQ(recorded.lines.size(), 1U);
  EXPECT_NE(recorded.lines[0].find(file.path() + ":2:"), std::string::npos) << recorded.lines[0];
}

TEST(TokenAuthenticator, AMalformedFileStopsTheStartNamingTheLine) {
  const TempFile file("# header\nreader users:read nothex\n");
  const auto made = make_token_authenticator(TokenSettings{file.path()}, {});
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find(file.path() + ":2:"), std::string::npos) << made.error();
  EXPECT_FALSE(make_token_authenticator(TokenSettings{""}, {}));
}

TEST(TokenGenerator, TheLineLetsTheTokenIn) {
  const auto generated = generate_token("ci-bot", "users:read,users:write");
  ASSERT_TRUE(generated) << generated.error();
  EXPECT_GE(generated->token.size(), 43U);  // 32 bytes in base64url
  EXPECT_EQ(generated->line.find(generated->token), std::string::npos) << "the file line holds only the digest";
  const TempFile file(generated->line + "\n");
  const auto auth = authenticator_for(file);
  ASSERT_TRUE(auth);
  const auto principal = auth->authenticate("Bearer " + generated->token);
  ASSERT_TRUE(principal);
  EXPECT_EQ((*principal)->name, "ci-bot");
  EXPECT_EQ((*principal)->scopes, kRead | kWrite);
}

TEST(TokenGenerator, TwoTokensDiffer) {
  EXPECT_NE(generate_token("a", "users:read")->token, generate_token("a", "users:read")->token);
}

TEST(TokenGenerator, BadScopesOrNamesAreRefused) {
  const auto scopes = generate_token("bot", "users:admin");
  ASSERT_FALSE(scopes);
  EXPECT_NE(scopes.error().find("users:admin"), std::string::npos);
  EXPECT_FALSE(generate_token("two words", "users:read"));
  EXPECT_FALSE(generate_token("", "users:read"));
  EXPECT_FALSE(generate_token("a#b", "users:read"));
}

}  // namespace
}  // namespace users::auth
