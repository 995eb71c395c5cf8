#include "observability/log_escape.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace users::observability {
namespace {

std::string logged(std::string_view bytes, std::size_t max_bytes = 1024) {
  std::string out;
  append_log_string(out, bytes, max_bytes);
  return out;
}

TEST(LogString, PlainAsciiIsQuotedAsIs) {
  EXPECT_EQ(logged("/api/users/1/"), R"("/api/users/1/")");
  EXPECT_EQ(logged(""), R"("")");
}

TEST(LogString, QuotesBackslashesAndControlsAreEscaped) {
  EXPECT_EQ(logged("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(logged("l\nt\t\r\x01\x7f"), R"("l\nt\t\r\u0001\u007f")");
}

TEST(LogString, IllFormedUtf8BecomesReplacementEscapes) {
  EXPECT_EQ(logged("a\xff\xfe"
                   "b"),
            R"("a\ufffd\ufffdb")");
  EXPECT_EQ(logged("\xe2\x82"), R"("\ufffd\ufffd")");            // a sequence cut short
  EXPECT_EQ(logged("\xc0\xaf"), R"("\ufffd\ufffd")");            // an overlong '/'
  EXPECT_EQ(logged("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
}

TEST(LogString, BidirectionalInvisibleAndC1ControlsAreEscaped) {
  EXPECT_EQ(logged("x\xe2\x80\xae"
                   "y"),
            R"("x\u202ey")");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(logged("\xe2\x81\xa6\xe2\x80\x8b\xef\xbb\xbf"), R"("\u2066\u200b\ufeff")");
  EXPECT_EQ(logged("\xc2\x85\xe2\x80\xa8"), R"("\u0085\u2028")");
}

TEST(LogString, OtherUnicodeStaysAsIs) {
  EXPECT_EQ(logged("Jos\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"), "\"Jos\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"");
}

TEST(LogString, CutAtTheLimitOnACharacterBoundary) {
  std::string out;
  EXPECT_TRUE(append_log_string(out, "abcdef", 4));
  EXPECT_EQ(out, R"("abcd")");
  out.clear();
  EXPECT_TRUE(append_log_string(out, "ab\xc3\xa9", 3));  // é would end past byte 3
  EXPECT_EQ(out, R"("ab")");
  out.clear();
  EXPECT_FALSE(append_log_string(out, "abcd", 4));
}

TEST(LogString, EveryByteSequenceGivesValidJson) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all += static_cast<char>(byte);
  all += "\xe2\x80\xae\xf4\x90\x80\x80";  // U+202E, and a code point past U+10FFFF
  const auto text = logged(all, all.size());
  const auto parsed = boost::json::parse(text);  // throws on invalid JSON or UTF-8
  ASSERT_TRUE(parsed.is_string());
  for (const char c : text)
    EXPECT_LT(static_cast<unsigned char>(c), 0x80) << "only ASCII remains: every non-ASCII byte here is unsafe";
}

TEST(LogJson, SerializedValuesKeepTheirSyntax) {
  std::string out;
  append_log_json(out, R"({"a":[1,true,null]})");
  EXPECT_EQ(out, R"({"a":[1,true,null]})");
  out.clear();
  append_log_json(out, "[\"\xe2\x80\xae\xff\"]");
  EXPECT_EQ(out, R"(["\u202e\ufffd"])");
}

TEST(LogText, BareOnlyForPlainWords) {
  EXPECT_TRUE(is_bare_log_text("/api/users/"));
  EXPECT_FALSE(is_bare_log_text(""));
  EXPECT_FALSE(is_bare_log_text("a b"));
  EXPECT_FALSE(is_bare_log_text("a=b"));
  EXPECT_FALSE(is_bare_log_text("caf\xc3\xa9"));
  EXPECT_FALSE(is_bare_log_text("a\x1b[31m"));
}

}  // namespace
}  // namespace users::observability
