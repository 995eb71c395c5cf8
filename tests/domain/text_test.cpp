#include "domain/text.hpp"

#include <gtest/gtest.h>

namespace users::domain::text {
namespace {

TEST(PythonStrip, RemovesAsciiAndUnicodeWhiteSpace) {
  EXPECT_EQ(python_strip("  a b \t\n"), "a b");
  EXPECT_EQ(python_strip("\xC2\xA0x\xE3\x80\x80"), "x");    // U+00A0, U+3000
  EXPECT_EQ(python_strip("\x1Cx\x1F"), "x");                // Python counts these as space
  EXPECT_EQ(python_strip("\xE2\x80\xA8"), "");              // U+2028
  EXPECT_EQ(python_strip("\xE2\x80\x8B"), "\xE2\x80\x8B");  // U+200B is not space
  EXPECT_EQ(python_strip(""), "");
}

TEST(CountCodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(count_code_points("abc"), 3U);
  EXPECT_EQ(count_code_points("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), 3U);  // é € 😀
}

TEST(PythonFloatText, MatchesPythonRepr) {
  EXPECT_EQ(python_float_text(1.0), "1.0");
  EXPECT_EQ(python_float_text(1.5), "1.5");
  EXPECT_EQ(python_float_text(100000.0), "100000.0");
  EXPECT_EQ(python_float_text(1e16), "1e+16");
  EXPECT_EQ(python_float_text(1.5e20), "1.5e+20");
  EXPECT_EQ(python_float_text(1e-5), "1e-05");
  EXPECT_EQ(python_float_text(0.0001), "0.0001");
  EXPECT_EQ(python_float_text(-0.0), "-0.0");
  EXPECT_EQ(python_float_text(0.1), "0.1");
  EXPECT_EQ(python_float_text(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(python_float_text(1e300 * 1e10), "inf");
}

TEST(PythonIntText, NormalisesNegativeZero) {
  EXPECT_EQ(python_int_text("-0"), "0");
  EXPECT_EQ(python_int_text("123456789012345678901234567890"), "123456789012345678901234567890");
}

TEST(ParsePythonInt, AcceptsWhatIntAccepts) {
  EXPECT_EQ(parse_python_int("1"), 1);
  EXPECT_EQ(parse_python_int("01"), 1);
  EXPECT_EQ(parse_python_int(" 7 "), 7);
  EXPECT_EQ(parse_python_int("+3"), 3);
  EXPECT_EQ(parse_python_int("-3"), -3);
  EXPECT_EQ(parse_python_int("1_000"), 1000);
  EXPECT_EQ(parse_python_int("\xEF\xBC\x97"), 7);      // U+FF17 FULLWIDTH SEVEN
  EXPECT_EQ(parse_python_int("1\xD9\xA3"), 13);        // ARABIC-INDIC THREE
  EXPECT_EQ(parse_python_int("\xF0\x9D\x9F\x8F"), 1);  // U+1D7CF MATHEMATICAL BOLD ONE
  EXPECT_EQ(parse_python_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_python_int("-9223372036854775808"), INT64_MIN);
}

TEST(ParsePythonInt, RefusesWhatIntRefuses) {
  for (const char* text : {"", " ", "abc", "1a", "1.0", "_1", "1_", "1__0", "+", "9223372036854775808", "0x10",
                           "\xC2\xB2" /* superscript two is not decimal */, "\xFF"}) {
    EXPECT_FALSE(parse_python_int(text).has_value()) << text;
  }
}

TEST(RepairUtf8, ReplacesInvalidBytes) {
  EXPECT_EQ(repair_utf8("ok"), "ok");
  EXPECT_EQ(repair_utf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(repair_utf8("\xC3"), "\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8("\xC3\xA9"), "\xC3\xA9");
  // Valid text is copied in runs; each invalid byte of a broken sequence is
  // one U+FFFD, wherever the run it ends or starts.
  EXPECT_EQ(repair_utf8("\xC3\xA9\xFF"), "\xC3\xA9\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8("a\xE2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8("\xE2\x82\xAC\xE2\x82x\xE2\x82\xAC"), "\xE2\x82\xAC\xEF\xBF\xBD\xEF\xBF\xBDx\xE2\x82\xAC");
  EXPECT_EQ(repair_utf8(std::string(3, '\xFF')), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8(""), "");
}

}  // namespace
}  // namespace users::domain::text

namespace users::domain::text {
namespace {

// str.split(): runs of Unicode white space (U+3000 and U+00A0 included).
TEST(PythonSplit, SplitsOnRunsOfUnicodeWhiteSpace) {
  using Words = std::vector<std::string_view>;
  EXPECT_EQ(python_split("  a b\t\tc\n"), (Words{"a", "b", "c"}));
  EXPECT_EQ(python_split("x\xE3\x80\x80y\xC2\xA0z"), (Words{"x", "y", "z"}));
  EXPECT_EQ(python_split(" \t "), Words{});
  EXPECT_EQ(python_split(""), Words{});
  EXPECT_EQ(python_split("\xC3\xB1"), Words{"\xC3\xB1"});
}

}  // namespace
}  // namespace users::domain::text
