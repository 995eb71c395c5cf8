#include "domain/dni_pattern.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace users::domain {
namespace {

DniPattern compiled(std::string_view text) {
  auto pattern = DniPattern::compile(text);
  EXPECT_TRUE(pattern) << text << ": " << (pattern ? std::string() : pattern.error());
  return pattern ? *pattern : *DniPattern::compile("");
}

TEST(DniPattern, MatchesTheWholeDniOnly) {
  const auto spain = compiled("[0-9]{8}[A-Z]");
  EXPECT_TRUE(spain.matches("12345678Z"));
  EXPECT_FALSE(spain.matches("12345678z"));   // case-sensitive
  EXPECT_FALSE(spain.matches("012345678Z"));  // a match inside is not enough
  EXPECT_FALSE(spain.matches("12345678ZZ"));
  EXPECT_FALSE(spain.matches(""));
  EXPECT_EQ(spain.text(), "[0-9]{8}[A-Z]");
}

TEST(DniPattern, MatchesCodePointsNotBytes) {
  EXPECT_TRUE(compiled(".{3}").matches("\xC3\xB1\xC3\xA1\xC3\xA9"));  // ñáé: three characters, six bytes
  EXPECT_FALSE(compiled(".{6}").matches("\xC3\xB1\xC3\xA1\xC3\xA9"));
  EXPECT_TRUE(compiled(".").matches("\xF0\x9F\x98\x80"));  // one emoji, outside the BMP
  // A pattern with non-ASCII characters of its own.
  EXPECT_TRUE(compiled("[\xC3\xB1\xC3\x91]x").matches("\xC3\x91x"));
  EXPECT_TRUE(compiled("\\x{F1}").matches("\xC3\xB1"));
}

TEST(DniPattern, LookAlikesDoNotMatchAsciiClasses) {
  const auto digits = compiled("[0-9]+");
  EXPECT_TRUE(digits.matches("123"));
  EXPECT_FALSE(digits.matches("\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"));  // full-width １２３
  EXPECT_FALSE(
      digits.matches("12\xE2\x80\x8B"
                     "3"));  // a zero-width space inside
  // \d, \w and (?i) are ASCII only: the classic locale, whatever the host's.
  EXPECT_TRUE(compiled("\\d+").matches("123"));
  EXPECT_FALSE(compiled("\\d+").matches("\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"));
  EXPECT_FALSE(compiled("\\d").matches("\xD9\xA1"));  // ARABIC-INDIC DIGIT ONE
  EXPECT_FALSE(compiled("\\w").matches("\xC3\xB1"));
  EXPECT_FALSE(compiled("[[:alpha:]]").matches("\xC3\xB1"));
  EXPECT_FALSE(compiled("\\p{L}").matches("\xC3\xB1"));
  EXPECT_FALSE(
      compiled("a\\sb").matches("a\xC2\xA0"
                                "b"));  // NO-BREAK SPACE
  EXPECT_TRUE(compiled("(?i)[a-z]+").matches("ABC"));
  EXPECT_FALSE(compiled("(?i)\xC3\xA9").matches("\xC3\x89"));  // é does not fold to É
  EXPECT_FALSE(compiled("Z").matches("\xCE\x96"));             // GREEK CAPITAL ZETA
}

TEST(DniPattern, DotIsPerlsDot) {
  EXPECT_FALSE(compiled("a.b").matches("a\nb"));
  EXPECT_TRUE(compiled("(?s)a.b").matches("a\nb"));
  EXPECT_TRUE(compiled("a.b").matches(std::string("a\0b", 3)));
}

TEST(DniPattern, CatastrophicBacktrackingIsNoMatchAndQuick) {
  const auto nested = compiled("(a+)+b");
  EXPECT_TRUE(nested.matches("aaab"));
  for (const std::size_t length : {std::size_t{1000}, std::size_t{5000}, std::size_t{65536}}) {
    SCOPED_TRACE(length);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(nested.matches(std::string(length, 'a')));
    EXPECT_FALSE(compiled("(?i)([a-z]+)*[0-9]").matches(std::string(length, 'a')));
    EXPECT_FALSE(compiled("(a*)\\1b").matches(std::string(length, 'a')));
    // Measured at about 30 ms for the three at 1,000 (release); sanitizers
    // are several times slower.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
}

TEST(DniPattern, LongerDnisThanTheBoundAreNotMatched) {
  const auto anything = compiled(".*");
  EXPECT_TRUE(anything.matches(std::string(DniPattern::kMaxMatchedCodePoints, 'a')));
  EXPECT_FALSE(anything.matches(std::string(DniPattern::kMaxMatchedCodePoints + 1, 'a')));
  // Counted in code points: 1,000 two-byte characters are still matched.
  std::string accents;
  for (std::size_t i = 0; i < DniPattern::kMaxMatchedCodePoints; ++i) accents += "\xC3\xA9";
  EXPECT_TRUE(anything.matches(accents));
}

TEST(DniPattern, IllFormedUtf8NeverMatches) {
  EXPECT_FALSE(compiled(".*").matches("\xC3"));
  EXPECT_FALSE(compiled(".*").matches("a\xFF"));
}

TEST(DniPattern, ABadPatternIsAnErrorValue) {
  for (const char* bad : {"(", "[a-", "a{2,1}", "\\", "*a", "(?<"}) {
    SCOPED_TRACE(bad);
    const auto pattern = DniPattern::compile(bad);
    ASSERT_FALSE(pattern);
    EXPECT_FALSE(pattern.error().empty());
    EXPECT_EQ(pattern.error().find("HERE"), std::string::npos) << pattern.error();
  }
  EXPECT_EQ(DniPattern::compile("(").error(), "Unmatched marking parenthesis ( or \\(. (at character 1)");
  const auto ill_formed = DniPattern::compile("[0-9]\xFF");
  ASSERT_FALSE(ill_formed);
  EXPECT_EQ(ill_formed.error(), "it is not valid UTF-8");
}

TEST(DniPattern, CopiesShareOneCompiledPattern) {
  const auto pattern = compiled("[A-Z]");
  const DniPattern copy = pattern;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the point
  EXPECT_TRUE(copy.matches("A"));
  EXPECT_EQ(&copy.text(), &pattern.text());
}

}  // namespace
}  // namespace users::domain
