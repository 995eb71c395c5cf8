#include "auth/token_file.hpp"

#include <gtest/gtest.h>

#include "auth/principal.hpp"

namespace users::auth {
namespace {

std::string digest() {
  return std::string().append(64, 'a');
}

TEST(TokenFileScopes, ReadWriteAndBothAreKnown) {
  EXPECT_EQ(*parse_token_file_scopes("users:read"), kRead);
  EXPECT_EQ(*parse_token_file_scopes("users:write"), kWrite);
  EXPECT_EQ(*parse_token_file_scopes("users:read,users:write"), kRead | kWrite);
}

TEST(TokenFileScopes, UnknownOrEmptyScopesAreErrors) {
  ASSERT_FALSE(parse_token_file_scopes("users:admin"));
  EXPECT_NE(parse_token_file_scopes("users:admin").error().find("users:admin"), std::string::npos);
  EXPECT_FALSE(parse_token_file_scopes(""));
  EXPECT_FALSE(parse_token_file_scopes("users:read,"));
  EXPECT_FALSE(parse_token_file_scopes("USERS:READ"));
}

TEST(JwtScopes, UnknownScopesAreLeftOut) {
  EXPECT_EQ(parse_jwt_scopes("openid users:read profile"), kRead);
  EXPECT_EQ(parse_jwt_scopes("users:write users:read"), kRead | kWrite);
  EXPECT_EQ(parse_jwt_scopes(""), 0U);
  EXPECT_EQ(parse_jwt_scopes("users:read,users:write"), 0U);  // the token file's syntax is not a JWT's
}

TEST(TokenFile, GoodLinesCommentsAndBlankLines) {
  const std::string text = "# clients\n\nreporting users:read " + digest() +
                           "  # the nightly report\n"
                           "   \t\n"
                           "admin\tusers:read,users:write\t" +
                           std::string(64, '0') + "\r\n";
  const auto entries = parse_token_file(text, "tokens.txt");
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 2U);
  EXPECT_EQ((*entries)[0].principal->name, "reporting");
  EXPECT_EQ((*entries)[0].principal->scopes, kRead);
  EXPECT_EQ((*entries)[0].digest[0], 0xaa);
  EXPECT_EQ((*entries)[1].principal->name, "admin");
  EXPECT_EQ((*entries)[1].principal->scopes, kRead | kWrite);
  EXPECT_EQ((*entries)[1].digest[31], 0);
}

TEST(TokenFile, AnEmptyFileHoldsNoTokens) {
  const auto entries = parse_token_file("# nobody yet\n", "tokens.txt");
  ASSERT_TRUE(entries);
  EXPECT_TRUE(entries->empty());
}

TEST(TokenFile, AMalformedLineIsNamedByFileAndNumber) {
  const auto entries = parse_token_file("# one\nok users:read " + digest() + "\njust-a-name\n", "/etc/tokens");
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().rfind("/etc/tokens:3: ", 0), 0U) << entries.error();
  EXPECT_NE(entries.error().find("NAME SCOPES SHA256"), std::string::npos);
  EXPECT_FALSE(parse_token_file("a users:read " + digest() + " extra\n", "f"));
}

TEST(TokenFile, BadHexIsAnError) {
  for (const std::string& digest :
       {std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'A'), std::string(63, 'a') + "g"}) {
    const auto entries = parse_token_file("\nname users:read " + digest, "t");
    ASSERT_FALSE(entries) << digest;
    EXPECT_EQ(entries.error().rfind("t:2: ", 0), 0U) << entries.error();
    EXPECT_NE(entries.error().find("hex"), std::string::npos);
  }
}

TEST(TokenFile, BadScopesAreAnError) {
  const auto entries = parse_token_file("name users:delete " + digest(), "t");
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().rfind("t:1: ", 0), 0U);
  EXPECT_NE(entries.error().find("users:delete"), std::string::npos);
}

TEST(TokenFile, ANameUsedTwiceIsAnError) {
  const auto entries = parse_token_file("a users:read " + digest() + "\na users:write " + std::string(64, 'b'), "t");
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().rfind("t:2: ", 0), 0U);
}

TEST(TokenFile, AMissingFileIsNamed) {
  const auto entries = read_token_file("/nonexistent/tokens");
  ASSERT_FALSE(entries);
  EXPECT_NE(entries.error().find("/nonexistent/tokens"), std::string::npos);
}

}  // namespace
}  // namespace users::auth
