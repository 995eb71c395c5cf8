// If-Match and If-None-Match as RFC 9110 13.1.1 and 13.1.2 read them: `*` or
// a list of entity tags, strong comparison for If-Match, weak for
// If-None-Match.
#include "api/conditional.hpp"

#include <gtest/gtest.h>

namespace users::api {
namespace {

TEST(ParseEntityTags, StarIsAnyButOnlyAlone) {
  EXPECT_TRUE(parse_entity_tags("*").any);
  EXPECT_TRUE(parse_entity_tags("  * ").any);
  const auto listed = parse_entity_tags(R"(*, "a")");
  EXPECT_FALSE(listed.any);
  ASSERT_EQ(listed.tags.size(), 1U);
  EXPECT_EQ(listed.tags[0].opaque, "a");
}

TEST(ParseEntityTags, ReadsAListOfStrongAndWeakTags) {
  const auto tags = parse_entity_tags(R"("abc", W/"def" ,W/"",  "x,y")");
  ASSERT_EQ(tags.tags.size(), 4U);
  EXPECT_EQ(tags.tags[0].opaque, "abc");
  EXPECT_FALSE(tags.tags[0].weak);
  EXPECT_EQ(tags.tags[1].opaque, "def");
  EXPECT_TRUE(tags.tags[1].weak);
  EXPECT_EQ(tags.tags[2].opaque, "");
  EXPECT_TRUE(tags.tags[2].weak);
  EXPECT_EQ(tags.tags[3].opaque, "x,y");  // a comma is an etagc
}

TEST(ParseEntityTags, LeavesOutWhatIsNoEntityTag) {
  EXPECT_TRUE(parse_entity_tags("").tags.empty());
  EXPECT_TRUE(parse_entity_tags("garbage").tags.empty());
  EXPECT_TRUE(parse_entity_tags(R"(abc")").tags.empty());
  EXPECT_TRUE(parse_entity_tags(R"("abc)").tags.empty());
  EXPECT_TRUE(parse_entity_tags(R"(w/"abc")").tags.empty());  // W/ is case-sensitive
  EXPECT_TRUE(parse_entity_tags(R"("a b")").tags.empty());    // no space inside
  EXPECT_TRUE(parse_entity_tags(R"("abc"x)").tags.empty());   // text after the closing quote
  EXPECT_TRUE(parse_entity_tags("\"a\x7F\"").tags.empty());   // DEL is no etagc
  const auto mixed = parse_entity_tags(R"(junk, "ok", "bad)");
  ASSERT_EQ(mixed.tags.size(), 1U);
  EXPECT_EQ(mixed.tags[0].opaque, "ok");
  EXPECT_FALSE(mixed.any);
}

TEST(CompareEntityTags, StrongIgnoresWeakTagsAndWeakDoesNot) {
  const auto weak = parse_entity_tags(R"(W/"t")");
  EXPECT_FALSE(strong_match(weak, "t"));
  EXPECT_TRUE(weak_match(weak, "t"));
  const auto strong = parse_entity_tags(R"("s", "t")");
  EXPECT_TRUE(strong_match(strong, "t"));
  EXPECT_TRUE(weak_match(strong, "t"));
  EXPECT_FALSE(strong_match(strong, "u"));
  EXPECT_FALSE(weak_match(strong, "u"));
  EXPECT_FALSE(strong_match(strong, "T"));  // opaque tags compare byte for byte
  EXPECT_TRUE(strong_match(parse_entity_tags("*"), "anything"));
  EXPECT_TRUE(weak_match(parse_entity_tags("*"), "anything"));
  EXPECT_FALSE(weak_match(parse_entity_tags(""), "t"));
}

TEST(WritePrecondition, StarIsAnyUserAndAListItsStrongTags) {
  EXPECT_TRUE(write_precondition(parse_entity_tags("*")).is_any());
  const auto listed = write_precondition(parse_entity_tags(R"("a", W/"b", "c")"));
  EXPECT_FALSE(listed.is_any());
  EXPECT_EQ(listed.tags(), (std::vector<std::string>{"a", "c"}));
  const auto none = write_precondition(parse_entity_tags("garbage"));
  EXPECT_FALSE(none.is_any());
  EXPECT_TRUE(none.tags().empty());
}

TEST(QuotedTag, AddsTheQuotes) {
  EXPECT_EQ(quoted_tag("abc"), R"("abc")");
}

}  // namespace
}  // namespace users::api
