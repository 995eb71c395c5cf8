// api.md: "{id} is parsed as Django parses an integer path value" (Python's
// int() of the percent-decoded segment); anything that is not an existing
// user's id gives 404 {"detail":"Not found."}.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

class ContractIds : public ContractTest {
 protected:
  // Users 1..count, dni "d<id>", name "n<id>".
  void create_users(int count) {
    for (int i = 1; i <= count; ++i) ASSERT_EQ(create(cat("d", std::to_string(i)), cat("n", std::to_string(i))), i);
  }
  static std::string expected(int id) {
    return user_json(id, cat("d", std::to_string(id)), cat("n", std::to_string(id)));
  }
};

struct IdCase {
  const char* segment;  // as sent in the path
  int id;               // the user Python's int() finds
  const char* why;
};

TEST_F(ContractIds, LeadingZerosSignsWhiteSpaceAndUnderscoresAreAccepted) {
  ASSERT_NO_FATAL_FAILURE(create_users(10));
  const IdCase cases[] = {
      {"01", 1, "leading zero"},
      {"0001", 1, "leading zeros"},
      {"+1", 1, "plus sign"},
      {"%2B1", 1, "plus sign, percent-encoded"},
      {"%201", 1, "leading space"},
      {"1%20", 1, "trailing space"},
      {"%20%201%20", 1, "spaces around"},
      {"%091", 1, "leading tab"},
      {"1%0A", 1, "trailing new line"},
      {"1_0", 10, "underscore between digits"},
      {"0_1", 1, "underscore after a leading zero"},
      {"+0_0_3", 3, "sign, zeros and underscores"},
      {"%31", 1, "a digit percent-encoded"},
      {"%C2%A05", 5, "U+00A0 NO-BREAK SPACE is white space to int()"},
      {"5%E3%80%80", 5, "U+3000 IDEOGRAPHIC SPACE is white space to int()"},
  };
  for (const auto& [segment, id, why] : cases) {
    SCOPED_TRACE(cat(segment, " (", why, ")"));
    EXPECT_ITEM_API(client_.get(cat(kUsers, segment, "/")), 200, expected(id));
  }
}

// Python's int() reads every Unicode decimal digit, and Django matches the
// percent-decoded (UTF-8) path.
TEST_F(ContractIds, UnicodeDecimalDigitsAreDigits) {
  ASSERT_NO_FATAL_FAILURE(create_users(10));
  const IdCase cases[] = {
      {"%EF%BC%97", 7, "U+FF17 FULLWIDTH DIGIT SEVEN"},
      {"%D9%A3", 3, "U+0663 ARABIC-INDIC DIGIT THREE"},
      {"%E0%A5%A8", 2, "U+0968 DEVANAGARI DIGIT TWO"},
      {"1%EF%BC%90", 10, "1 then U+FF10 FULLWIDTH DIGIT ZERO"},
  };
  for (const auto& [segment, id, why] : cases) {
    SCOPED_TRACE(cat(segment, " (", why, ")"));
    EXPECT_ITEM_API(client_.get(cat(kUsers, segment, "/")), 200, expected(id));
  }
}

TEST_F(ContractIds, EveryMethodParsesTheIdTheSameWay) {
  ASSERT_NO_FATAL_FAILURE(create_users(10));
  EXPECT_ITEM_API(client_.put_json("/api/users/+01/", R"({"dni":"p","name":"Put"})"), 200, user_json(1, "p", "Put"));
  EXPECT_ITEM_API(client_.patch_json("/api/users/%200_2%20/", R"({"name":"Patched"})"), 200,
                  user_json(2, "d2", "Patched"));
  EXPECT_ITEM_API(client_.request("DELETE", "/api/users/1_0/"), 204, "");
  EXPECT_ITEM_API(get(10), 404, kNotFoundBody);
  const auto head = client_.request("HEAD", "/api/users/003/");
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(header(head, "Content-Length"), std::to_string(expected(3).size()));
}

TEST_F(ContractIds, NonIntegerIdsAnswer404) {
  ASSERT_NO_FATAL_FAILURE(create_users(10));
  for (const char* segment : {"abc", "1a", "a1", "0x1", "1e1", "1__0", "_1", "1_", "+-1", "--1", "1%201", "%20",
                              "%2B", "%EF%BC%BF", "99999999999999999999999999", "%E2%85%A0" /* Ⅰ, a numeral but
                                                                                               not a digit */}) {
    SCOPED_TRACE(segment);
    const std::string target = cat(kUsers, segment, "/");
    EXPECT_ITEM_API(client_.get(target), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.put_json(target, R"({"dni":"x","name":"y"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.patch_json(target, R"({"name":"y"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.request("DELETE", target), 404, kNotFoundBody);
  }
  EXPECT_EQ(list().body().find("\"y\""), std::string::npos) << "a 404 request changed a user";
}

TEST_F(ContractIds, IntegersThatAreNoUsersIdAnswer404) {
  ASSERT_NO_FATAL_FAILURE(create_users(2));
  for (const char* segment : {"0", "00", "-0", "-1", "-2", "3", "+3", "9223372036854775807", "9223372036854775808",
                              "-9223372036854775808", "18446744073709551616"}) {
    SCOPED_TRACE(segment);
    const std::string target = cat(kUsers, segment, "/");
    EXPECT_ITEM_API(client_.get(target), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.put_json(target, R"({"dni":"x","name":"y"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.patch_json(target, R"({"name":"y"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.request("DELETE", target), 404, kNotFoundBody);
  }
  EXPECT_LIST_API(list(), 200, json_array({expected(1), expected(2)}));
}

}  // namespace
}  // namespace users::testing::contract
