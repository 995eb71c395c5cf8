#include "auth/openssl.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace users::auth {
namespace {

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    const std::string text = base64url_encode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    EXPECT_EQ(base64url_decode(text), bytes) << text;
    bytes += static_cast<char>(0xF0 ^ length * 37);
  }
}

// RFC 4648 section 3.5: the bits of the last symbol that stand for no byte
// are zero, so a value has one spelling. "Tokenabcdef" decoded (its "f" has
// a pad bit set) and encoding it back gave "Tokenabcdec": found by
// tests/fuzz (credentials).
TEST(Base64url, ASpellingWithPadBitsSetIsRefused) {
  EXPECT_EQ(base64url_decode("QQ"), "A");
  EXPECT_EQ(base64url_decode("QR"), std::nullopt);
  EXPECT_EQ(base64url_decode("QX"), std::nullopt);
  EXPECT_EQ(base64url_decode("QUI"), "AB");
  EXPECT_EQ(base64url_decode("QUJ"), std::nullopt);
  EXPECT_EQ(base64url_decode("QUL"), std::nullopt);
  EXPECT_EQ(base64url_decode("Tokenabcdec"), "N\x89\x1E\x9D\xA6\xDCu\xE7");
  for (const char* other : {"Tokenabcded", "Tokenabcdee", "Tokenabcdef"}) {
    EXPECT_EQ(base64url_decode(other), std::nullopt) << other;
  }
  EXPECT_EQ(base64url_decode("_w"), "\xFF");
  EXPECT_EQ(base64url_decode("__"), std::nullopt);
}

TEST(Base64url, RefusesPaddingWhiteSpaceAndTheStandardAlphabet) {
  EXPECT_EQ(base64url_decode("QQ=="), std::nullopt);
  EXPECT_EQ(base64url_decode("Q Q"), std::nullopt);
  EXPECT_EQ(base64url_decode("+w"), std::nullopt);
  EXPECT_EQ(base64url_decode("/w"), std::nullopt);
  EXPECT_EQ(base64url_decode("Q"), std::nullopt);  // one symbol is no byte
  EXPECT_EQ(base64url_decode(""), "");
}

}  // namespace
}  // namespace users::auth
