// Django's fixture format, read and written without a database.
#include "transfer/fixture.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "transfer/checksum.hpp"

namespace users::transfer {
namespace {

using domain::User;

struct Parsed {
  std::vector<FixtureRecord> records;
  std::optional<FixtureError> error;
};

// Feeds `text` in pieces of `piece` bytes, as a file read in chunks would.
Parsed parse(std::string_view text, std::size_t piece = 1 << 16) {
  Parsed parsed;
  FixtureReader reader;
  for (std::size_t at = 0; at < text.size(); at += piece) {
    if (auto fed = reader.feed(text.substr(at, piece), parsed.records); !fed) {
      parsed.error = fed.error();
      return parsed;
    }
  }
  if (auto finished = reader.finish(parsed.records); !finished) parsed.error = finished.error();
  return parsed;
}

std::string write(const std::vector<User>& users, int indent = 0) {
  FixtureWriter writer(indent);
  std::string out;
  writer.begin(out);
  for (const auto& user : users) writer.add(user, out);
  writer.end(out);
  return out;
}

constexpr std::string_view kTwoUsers =
    R"([{"model": "api.user", "pk": 1, "fields": {"dni": "0987", "name": "Ana"}}, )"
    R"({"model": "api.user", "pk": 7, "fields": {"dni": "X\u00e1", "name": "Jos\u00e9"}}])";

TEST(Fixture, ReadsEveryRecordWhateverTheChunkBoundaries) {
  for (const std::size_t piece : {1UL, 2UL, 3UL, 7UL, 64UL}) {
    const auto parsed = parse(kTwoUsers, piece);
    ASSERT_FALSE(parsed.error) << piece << ": " << parsed.error->to_string();
    ASSERT_EQ(parsed.records.size(), 2U);
    EXPECT_EQ(parsed.records[0].position, 1U);
    EXPECT_EQ(parsed.records[0].user, (User{1, "0987", "Ana"}));
    EXPECT_EQ(parsed.records[1].position, 2U);
    EXPECT_EQ(parsed.records[1].user, (User{7, "X\xC3\xA1", "Jos\xC3\xA9"}));
  }
}

TEST(Fixture, AppliesTheApisRulesTrimmingAndLengths) {
  const auto trimmed = parse(R"([{"model": "api.user", "pk": 2, "fields": {"dni": "  12 ", "name": "\tAna\u3000"}}])");
  ASSERT_FALSE(trimmed.error);
  EXPECT_EQ(trimmed.records.at(0).user, (User{2, "12", "Ana"}));
  const auto too_long = parse(R"([{"model": "api.user", "pk": 2, "fields": {"dni": "12345678901234", "name": "A"}}])");
  ASSERT_TRUE(too_long.error);
  EXPECT_EQ(too_long.error->to_string(), "record 1: pk 2: dni: Ensure this field has no more than 13 characters.");
  const auto blank = parse(R"([{"model": "api.user", "pk": 2, "fields": {"dni": "1", "name": "  "}}])");
  ASSERT_TRUE(blank.error);
  EXPECT_EQ(blank.error->to_string(), "record 1: pk 2: name: This field may not be blank.");
}

TEST(Fixture, NamesTheRecordAtFault) {
  const std::string_view ok = R"({"model": "api.user", "pk": 1, "fields": {"dni": "1", "name": "A"}})";
  const std::vector<std::pair<std::string, std::string>> cases{
      {fmt::format("[{}, {}]", ok, R"({"model": "auth.user", "pk": 2, "fields": {}})"),
       "record 2: model \"auth.user\" is not api.user"},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "fields": {"dni": "2", "name": "B"}})"),
       "record 2: no \"pk\""},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "pk": "2", "fields": {"dni": "2", "name": "B"}})"),
       "record 2: \"pk\" is not a positive integer"},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "pk": 2, "fields": {"dni": "2"}})"),
       "record 2: pk 2: name: This field is required."},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "pk": 2, "fields": {"dni": "2", "name": "B", "x": 1}})"),
       "record 2: unknown field \"x\""},
      {fmt::format("[{}, 5]", ok), "record 2: not an object"},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "pk": [2], "fields": {"dni": "2", "name": "B"}})"),
       "record 2: a record holds a list"},
      {fmt::format("[{}, {}]", ok, R"({"model": "api.user", "pk": 2, "fields": {"dni": ["2"], "name": "B"}})"),
       "record 2: not valid JSON: too deep"},
      {fmt::format("[{}, {}", ok, R"({"model": "api.user", "pk": 2, )"), "record 2: not valid JSON: incomplete JSON"},
      {R"({"model": "api.user"})", "the file is not a list of records"},
      {fmt::format("[{}] x", ok), "text after the end of the list"},
      {"[] []", "text after the end of the list"},
      {"", "not valid JSON: incomplete JSON"},
  };
  for (const auto& [text, message] : cases) {
    const auto parsed = parse(text);
    ASSERT_TRUE(parsed.error) << text;
    EXPECT_EQ(parsed.error->to_string(), message) << text;
  }
}

TEST(Fixture, RefusesARecordTooLargeToBeAUserBeforeHoldingItInMemory) {
  const auto parsed = parse(fmt::format(R"([{{"model": "api.user", "pk": 1, "fields": {{"dni": "{}", "name": "A"}}}}])",
                                        std::string(1 << 20, 'x')));
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->position, 1U);
}

TEST(Fixture, WritesWhatDjangosDumpdataWrites) {
  // json.dumps(..., ensure_ascii=False): control characters as lower-case
  // \u00xx, everything else (U+2028 included) as it is.
  const std::vector<User> users{{1, "0987", "Ana"}, {12, "a\"b\\c\x01", "Jos\xC3\xA9\xE2\x80\xA8x"}};
  EXPECT_EQ(write(users), R"([{"model": "api.user", "pk": 1, "fields": {"dni": "0987", "name": "Ana"}}, )"
                          R"({"model": "api.user", "pk": 12, "fields": {"dni": "a\"b\\c\u0001", "name": "Jos)"
                          "\xC3\xA9\xE2\x80\xA8"
                          R"(x"}}])");
  EXPECT_EQ(write({users[0]}, 2),
            "[\n{\n  \"model\": \"api.user\",\n  \"pk\": 1,\n  \"fields\": {\n    \"dni\": \"0987\",\n"
            "    \"name\": \"Ana\"\n  }\n}\n]\n");
  EXPECT_EQ(write({}), "[]");
  EXPECT_EQ(write({}, 4), "[\n]\n");
}

TEST(Fixture, WhatItWritesReadsBackTheSame) {
  const std::vector<User> users{{3, "\xE2\x82\xAC", "tab\there"}, {4, "b", "quote\"s"}};
  for (const int indent : {0, 2}) {
    const auto parsed = parse(write(users, indent));
    ASSERT_FALSE(parsed.error);
    ASSERT_EQ(parsed.records.size(), 2U);
    EXPECT_EQ(parsed.records[0].user, users[0]);
    EXPECT_EQ(parsed.records[1].user, users[1]);
  }
}

TEST(Fixture, ChecksumIgnoresOrderAndAddsUp) {
  TableChecksum forward;
  TableChecksum backward;
  TableChecksum first;
  TableChecksum second;
  const User a{1, "a", "A"};
  const User b{2, "b", "B"};
  forward.add(a);
  forward.add(b);
  backward.add(b);
  backward.add(a);
  first.add(a);
  second.add(b);
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward, first + second);
  TableChecksum altered;
  altered.add(a);
  altered.add(User{2, "b", "C"});
  EXPECT_NE(forward, altered);
}

}  // namespace
}  // namespace users::transfer
