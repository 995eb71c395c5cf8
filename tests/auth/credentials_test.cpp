#include "auth/credentials.hpp"

#include <gtest/gtest.h>

namespace users::auth {
namespace {

TEST(Authorization, BearerAndTokenSchemesAnyCase) {
  const auto bearer = parse_authorization("Bearer abc.def");
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->scheme, Scheme::kBearer);
  EXPECT_EQ(bearer->credential, "abc.def");
  const auto token = parse_authorization("tOKEN xyz");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->scheme, Scheme::kToken);
  EXPECT_EQ(token->credential, "xyz");
  EXPECT_TRUE(parse_authorization("BEARER x"));
}

TEST(Authorization, AnythingElseIsNoCredentials) {
  for (const char* header : {"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer  a", "Token\ta",
                             "Bearer a\t", "Bearerx a", "Digest x"}) {
    EXPECT_FALSE(parse_authorization(header)) << header;
  }
}

}  // namespace
}  // namespace users::auth
