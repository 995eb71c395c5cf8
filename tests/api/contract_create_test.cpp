// api.md: POST's own pre-check ({"detail":"User already exists"} when the dni
// exactly as sent exists, before any validation) and DRF's uniqueness message
// for a dni that matches only after trimming.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

class ContractCreate : public ContractTest {};

TEST_F(ContractCreate, SameDniAsSentAnswersUserAlreadyExists) {
  const auto id = create("123", "Ana");
  EXPECT_LIST_API(post(R"({"dni":"123","name":"Other"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(list(), 200, json_array({user_json(id, "123", "Ana")}));
}

TEST_F(ContractCreate, ANumberMatchesTheSameDigitsAsText) {
  create("123", "Ana");
  create("1.5", "Bo");
  create("100000.0", "Cy");
  EXPECT_LIST_API(post(R"({"dni":123,"name":"Other"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":1.5,"name":"Other"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":1e5,"name":"Other"})"), 400, kAlreadyExists);
}

// Django compares str(True), "True", with the stored text.
TEST_F(ContractCreate, ABooleanMatchesItsPythonText) {
  create("True", "Ana");
  EXPECT_LIST_API(post(R"({"dni":true,"name":"Other"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":false,"name":"Other"})"), 400, R"({"dni":["Not a valid string."]})");
}

TEST_F(ContractCreate, PreCheckComesBeforeTheValidationOfOtherFields) {
  create("123", "Ana");
  EXPECT_LIST_API(post(R"({"dni":"123","name":""})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":"123"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":"123","name":null})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":"123","name":true})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"name":"Other","dni":"123"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(cat(R"({"dni":"123","name":")", repeat("x", 31), R"("})")), 400, kAlreadyExists);
}

TEST_F(ContractCreate, PreCheckAppliesToFormBodiesToo) {
  create("123", "Ana");
  EXPECT_LIST_API(send("POST", kUsers, "dni=123&name=", "application/x-www-form-urlencoded"), 400, kAlreadyExists);
}

// " 123" is not "123" as sent; once trimmed it is, and DRF's unique
// validator speaks instead.
TEST_F(ContractCreate, DniEqualAfterTrimmingAnswersTheUniquenessError) {
  const auto id = create("123", "Ana");
  EXPECT_LIST_API(post(R"({"dni":" 123","name":"Other"})"), 400, kDniTaken);
  EXPECT_LIST_API(post(R"({"dni":"123 ","name":"Other"})"), 400, kDniTaken);
  EXPECT_LIST_API(post(R"({"dni":"\t123\u00a0","name":"Other"})"), 400, kDniTaken);
  EXPECT_LIST_API(send("POST", kUsers, "dni=+123&name=Other", "application/x-www-form-urlencoded"), 400, kDniTaken);
  EXPECT_LIST_API(list(), 200, json_array({user_json(id, "123", "Ana")}));
}

TEST_F(ContractCreate, UniquenessErrorIsCollectedWithTheOtherFieldsErrors) {
  create("123", "Ana");
  EXPECT_LIST_API(post(R"({"dni":" 123","name":""})"), 400,
                  R"({"dni":["user with this dni already exists."],"name":["This field may not be blank."]})");
  EXPECT_LIST_API(post(R"({"dni":" 123"})"), 400,
                  R"({"dni":["user with this dni already exists."],"name":["This field is required."]})");
}

TEST_F(ContractCreate, AStoredDniWithSpacesInsideIsMatchedExactly) {
  create("12 3", "Ana");
  EXPECT_LIST_API(post(R"({"dni":"12 3","name":"x"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":" 12 3 ","name":"x"})"), 400, kDniTaken);
  EXPECT_LIST_API(post(R"({"dni":"123","name":"x"})"), 201, user_json(2, "123", "x"));
}

TEST_F(ContractCreate, DniComparisonIsCaseSensitive) {
  create("abc", "Ana");
  EXPECT_LIST_API(post(R"({"dni":"ABC","name":"Bo"})"), 201, user_json(2, "ABC", "Bo"));
  EXPECT_LIST_API(post(R"({"dni":"Abc","name":"Cy"})"), 201, user_json(3, "Abc", "Cy"));
}

TEST_F(ContractCreate, UnicodeDniIsComparedExactly) {
  ASSERT_EQ(post(R"({"dni":"ñandú","name":"Ana"})").result_int(), 201);
  EXPECT_LIST_API(post(R"({"dni":"ñandú","name":"Bo"})"), 400, kAlreadyExists);
  EXPECT_LIST_API(post(R"({"dni":"\u00f1and\u00fa","name":"Bo"})"), 400, kAlreadyExists);  // same text, escaped
  EXPECT_LIST_API(post(R"({"dni":"\u3000ñandú","name":"Bo"})"), 400, kDniTaken);
  // "n" + U+0303 COMBINING TILDE is other text: no normalization.
  EXPECT_LIST_API(post(R"({"dni":"n\u0303andú","name":"Bo"})"), 201,
                  R"({"id":2,"dni":"n)"
                  "\u0303"
                  R"(andú","name":"Bo"})");
}

TEST_F(ContractCreate, ADniNoLongerTakenAfterAnUpdateCanBeUsed) {
  const auto id = create("123", "Ana");
  ASSERT_EQ(patch(id, R"({"dni":"456"})").result_int(), 200);
  EXPECT_LIST_API(post(R"({"dni":"123","name":"Bo"})"), 201, user_json(id + 1, "123", "Bo"));
  EXPECT_LIST_API(post(R"({"dni":"456","name":"Cy"})"), 400, kAlreadyExists);
}

TEST_F(ContractCreate, NoPreCheckWhenTheDniIsNotTextOrNumber) {
  create("123", "Ana");
  EXPECT_LIST_API(post(R"({"dni":null,"name":"x"})"), 400, R"({"dni":["This field may not be null."]})");
  EXPECT_LIST_API(post(R"({"dni":["123"],"name":"x"})"), 400, R"({"dni":["Not a valid string."]})");
  EXPECT_LIST_API(post(R"({"dni":{"a":"123"},"name":"x"})"), 400, R"({"dni":["Not a valid string."]})");
  EXPECT_LIST_API(post(R"({"name":"x"})"), 400, R"({"dni":["This field is required."]})");
}

}  // namespace
}  // namespace users::testing::contract
