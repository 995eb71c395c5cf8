// api.md "Field validation": every message, in its order, for both fields,
// collected as {"dni":[...],"name":[...]}.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

constexpr std::string_view kDniTooLong = "Ensure this field has no more than 13 characters.";
constexpr std::string_view kNameTooLong = "Ensure this field has no more than 30 characters.";
constexpr std::string_view kBothTooLong = R"({"dni":["Ensure this field has no more than 13 characters."],)"
                                          R"("name":["Ensure this field has no more than 30 characters."]})";
constexpr std::string_view kDniTooLongOnly = R"({"dni":["Ensure this field has no more than 13 characters."]})";

// {"dni":"<dni>","name":"<name>"}, values already JSON-escaped as needed.
std::string body(std::string_view dni, std::string_view name) {
  return cat(R"({"dni":")", dni, R"(","name":")", name, R"("})");
}

class ContractValidation : public ContractTest {};

TEST_F(ContractValidation, AbsentFieldsAreRequired) {
  EXPECT_LIST_API(post("{}"), 400, kBothRequired);
  EXPECT_LIST_API(post(R"({"dni":"1"})"), 400, R"({"name":["This field is required."]})");
  EXPECT_LIST_API(post(R"({"name":"a"})"), 400, R"({"dni":["This field is required."]})");
  EXPECT_LIST_API(post(R"({"Dni":"1","NAME":"a"})"), 400, kBothRequired);  // keys are case-sensitive
}

TEST_F(ContractValidation, NullIsRefused) {
  EXPECT_LIST_API(post(R"({"dni":null,"name":null})"), 400,
                  R"({"dni":["This field may not be null."],"name":["This field may not be null."]})");
  EXPECT_LIST_API(post(R"({"dni":"1","name":null})"), 400, R"({"name":["This field may not be null."]})");
}

TEST_F(ContractValidation, BooleansArraysAndObjectsAreNotStrings) {
  const char* values[] = {"true", "false", "[]", R"(["1"])", "{}", R"({"a":"b"})", "[[]]"};
  for (const char* value : values) {
    SCOPED_TRACE(value);
    EXPECT_LIST_API(post(cat(R"({"dni":)", value, R"(,"name":)", value, "}")), 400,
                    R"({"dni":["Not a valid string."],"name":["Not a valid string."]})");
  }
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractValidation, BlankAfterTrimmingIsRefused) {
  constexpr std::string_view kBothBlank =
      R"({"dni":["This field may not be blank."],"name":["This field may not be blank."]})";
  // Every character Python's str.strip() removes, as JSON escapes.
  const char* blanks[] = {"",
                          " ",
                          "   ",
                          R"(\t\n\r)",
                          R"(\u000b\u000c)",
                          R"(\u001c\u001d\u001e\u001f)",
                          R"(\u0085)",
                          R"(\u00a0)",
                          R"(\u1680)",
                          R"(\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a)",
                          R"(\u2028\u2029)",
                          R"(\u202f)",
                          R"(\u205f)",
                          R"(\u3000)",
                          R"( \u00a0\t\u3000 )"};
  for (const char* blank : blanks) {
    SCOPED_TRACE(blank);
    EXPECT_LIST_API(post(body(blank, blank)), 400, kBothBlank);
  }
  // The same characters sent raw, as UTF-8, not as JSON escapes.
  EXPECT_LIST_API(post(body("\u00a0\u3000", "\u2028\u0085")), 400, kBothBlank);
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractValidation, CharactersPythonDoesNotStripAreKept) {
  // U+200B ZERO WIDTH SPACE, U+FEFF and U+180E are not white space to Python.
  EXPECT_LIST_API(post(body(R"(\u200b)", R"(\ufeff)")), 201, "{\"id\":1,\"dni\":\"\u200b\",\"name\":\"\ufeff\"}");
  EXPECT_LIST_API(post(body(R"(\u180e)", R"( \u200bx\u200b )")), 201,
                  "{\"id\":2,\"dni\":\"\u180e\",\"name\":\"\u200bx\u200b\"}");
}

TEST_F(ContractValidation, LeadingAndTrailingWhiteSpaceIsTrimmedInsideIsKept) {
  EXPECT_LIST_API(post(body(R"( \t123\u00a0 )", R"(\u3000Ana  María\n)")), 201,
                  R"({"id":1,"dni":"123","name":"Ana  María"})");
}

TEST_F(ContractValidation, LengthIsCountedInCharactersAfterTrimming) {
  EXPECT_LIST_API(post(body(repeat("1", 13), repeat("n", 30))), 201, user_json(1, repeat("1", 13), repeat("n", 30)));
  EXPECT_LIST_API(post(body(repeat("2", 14), repeat("n", 31))), 400, kBothTooLong);
  // Trimmed first: surrounding white space does not count.
  EXPECT_LIST_API(post(body(cat("  ", repeat("3", 13), "  "), cat("\\u3000", repeat("m", 30), "\\u3000"))), 201,
                  user_json(2, repeat("3", 13), repeat("m", 30)));
}

TEST_F(ContractValidation, LengthCountsUnicodeCharactersNotBytes) {
  // 13 "é" are 26 bytes, 30 "中" are 90 bytes: both within the limits.
  EXPECT_LIST_API(post(body(repeat("é", 13), repeat("中", 30))), 201,
                  cat(R"({"id":1,"dni":")", repeat("é", 13), R"(","name":")", repeat("中", 30), R"("})"));
  EXPECT_LIST_API(post(body(repeat("é", 14), repeat("中", 31))), 400, kBothTooLong);
  // Characters beyond the BMP count once each (four bytes, one JSON surrogate pair).
  EXPECT_LIST_API(post(body(repeat("😀", 13), repeat(R"(\ud83d\ude00)", 30))), 201,
                  cat(R"({"id":2,"dni":")", repeat("😀", 13), R"(","name":")", repeat("😀", 30), R"("})"));
  EXPECT_LIST_API(post(body(repeat("😀", 14), "x")), 400, kDniTooLongOnly);
  // A combining mark is a character of its own: 7 × "e" + U+0301 = 14.
  EXPECT_LIST_API(post(body(repeat(R"(e\u0301)", 7), "x")), 400, kDniTooLongOnly);
}

TEST_F(ContractValidation, NulCharactersAreRefused) {
  EXPECT_LIST_API(post(body(R"(1\u00002)", R"(A\u0000na)")), 400,
                  R"({"dni":["Null characters are not allowed."],"name":["Null characters are not allowed."]})");
  EXPECT_LIST_API(post(body("1", R"(\u0000)")), 400, R"({"name":["Null characters are not allowed."]})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=1%002&name=ok", "application/x-www-form-urlencoded"), 400,
                  R"({"dni":["Null characters are not allowed."]})");
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractValidation, OneFieldCanCollectSeveralMessagesInOrder) {
  EXPECT_LIST_API(post(body(cat(repeat("1", 13), R"(\u0000)"), cat(repeat("n", 30), R"(\u0000)"))), 400,
                  cat(R"({"dni":[")", kDniTooLong, R"(","Null characters are not allowed."],"name":[")", kNameTooLong,
                      R"(","Null characters are not allowed."]})"));
}

TEST_F(ContractValidation, ErrorsOfBothFieldsComeTogetherDniFirst) {
  // Whatever the order of the keys in the request.
  EXPECT_LIST_API(post(R"({"name":"","dni":null})"), 400,
                  R"({"dni":["This field may not be null."],"name":["This field may not be blank."]})");
  EXPECT_LIST_API(post(R"({"name":true})"), 400,
                  R"({"dni":["This field is required."],"name":["Not a valid string."]})");
  EXPECT_LIST_API(post(cat(R"({"name":")", repeat("x", 31), R"(","dni":[]})")), 400,
                  cat(R"({"dni":["Not a valid string."],"name":[")", kNameTooLong, R"("]})"));
}

TEST_F(ContractValidation, OnlyFieldsWithErrorsAreListed) {
  EXPECT_LIST_API(post(body("1", "")), 400, R"({"name":["This field may not be blank."]})");
  EXPECT_LIST_API(post(body("", "Ana")), 400, R"({"dni":["This field may not be blank."]})");
}

TEST_F(ContractValidation, AFailedCreateStoresNothingAndUsesNoId) {
  EXPECT_EQ(post(body("", "")).result_int(), 400);
  EXPECT_EQ(post(body("1", repeat("x", 31))).result_int(), 400);
  EXPECT_LIST_API(post(body("1", "Ana")), 201, user_json(1, "1", "Ana"));
  // A taken dni is refused without drawing an id either, whether the
  // look-up or the insert itself finds it (a valid body skips the look-up).
  EXPECT_EQ(post(body("1", "Bea")).result_int(), 400);
  EXPECT_EQ(post(body("1", repeat("x", 31))).result_int(), 400);
  EXPECT_LIST_API(post(body("2", "Cid")), 201, user_json(2, "2", "Cid"));
}

}  // namespace
}  // namespace users::testing::contract
