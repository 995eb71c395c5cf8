// api.md: PUT needs both fields, PATCH validates and changes only the fields
// sent, a dni of another user is refused, an update of a missing user is 404
// whatever its body.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

class ContractUpdate : public ContractTest {};

TEST_F(ContractUpdate, PutRequiresBothFields) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(put(id, "{}"), 400, kBothRequired);
  EXPECT_ITEM_API(put(id, R"({"name":"New"})"), 400, R"({"dni":["This field is required."]})");
  EXPECT_ITEM_API(put(id, R"({"dni":"456"})"), 400, R"({"name":["This field is required."]})");
  EXPECT_ITEM_API(get(id), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, PutWithAnEmptyBodyRequiresBothFields) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(put(id, ""), 400, kBothRequired);
  EXPECT_ITEM_API(get(id), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, PutTrimsAndIgnoresIdAndUnknownKeys) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(put(id, R"({"id":99,"dni":" 456 ","name":"\tNew Name ","extra":1})"), 200,
                  user_json(id, "456", "New Name"));
  EXPECT_ITEM_API(get(id), 200, user_json(id, "456", "New Name"));
  EXPECT_ITEM_API(get(99), 404, kNotFoundBody);
}

TEST_F(ContractUpdate, PutAFailedValidationChangesNothing) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(put(id, R"({"dni":"456","name":""})"), 400, R"({"name":["This field may not be blank."]})");
  EXPECT_ITEM_API(get(id), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, PatchWithNoFieldsChangesNothing) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(patch(id, "{}"), 200, user_json(id, "123", "Ana"));
  EXPECT_ITEM_API(patch(id, ""), 200, user_json(id, "123", "Ana"));
  EXPECT_ITEM_API(patch(id, R"({"id":7,"other":"x"})"), 200, user_json(id, "123", "Ana"));
  EXPECT_ITEM_API(send("PATCH", item(id), "", "application/x-www-form-urlencoded"), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, PatchValidatesOnlyTheFieldsSent) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(patch(id, R"({"name":""})"), 400, R"({"name":["This field may not be blank."]})");
  EXPECT_ITEM_API(patch(id, R"({"dni":null})"), 400, R"({"dni":["This field may not be null."]})");
  EXPECT_ITEM_API(patch(id, R"({"dni":"12345678901234"})"), 400,
                  R"({"dni":["Ensure this field has no more than 13 characters."]})");
  EXPECT_ITEM_API(patch(id, R"({"dni":[],"name":" "})"), 400,
                  R"({"dni":["Not a valid string."],"name":["This field may not be blank."]})");
  EXPECT_ITEM_API(get(id), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, PatchTrimsAndConvertsNumbers) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(patch(id, R"({"dni":456})"), 200, user_json(id, "456", "Ana"));
  EXPECT_ITEM_API(patch(id, R"({"name":"\u3000Bo\u00a0"})"), 200, user_json(id, "456", "Bo"));
  EXPECT_ITEM_API(send("PATCH", item(id), "name=Cy+Dee", "application/x-www-form-urlencoded"), 200,
                  user_json(id, "456", "Cy Dee"));
}

TEST_F(ContractUpdate, PutOrPatchToAnotherUsersDniIsRefused) {
  const auto ana = create("123", "Ana");
  const auto bo = create("456", "Bo");
  EXPECT_ITEM_API(put(bo, R"({"dni":"123","name":"Bo"})"), 400, kDniTaken);
  EXPECT_ITEM_API(patch(bo, R"({"dni":"123"})"), 400, kDniTaken);
  EXPECT_ITEM_API(patch(bo, R"({"dni":" 123 "})"), 400, kDniTaken);
  EXPECT_ITEM_API(patch(bo, R"({"dni":123})"), 400, kDniTaken);
  EXPECT_ITEM_API(put(bo, R"({"dni":"123","name":""})"), 400,
                  R"({"dni":["user with this dni already exists."],"name":["This field may not be blank."]})");
  // Not POST's pre-check: PUT and PATCH never answer "User already exists".
  EXPECT_LIST_API(list(), 200, json_array({user_json(ana, "123", "Ana"), user_json(bo, "456", "Bo")}));
}

TEST_F(ContractUpdate, PutOrPatchKeepingItsOwnDniIsFine) {
  const auto id = create("123", "Ana");
  create("456", "Bo");
  EXPECT_ITEM_API(put(id, R"({"dni":"123","name":"Ana Two"})"), 200, user_json(id, "123", "Ana Two"));
  EXPECT_ITEM_API(patch(id, R"({"dni":"123"})"), 200, user_json(id, "123", "Ana Two"));
  EXPECT_ITEM_API(patch(id, R"({"dni":" 123 ","name":"Ana Three"})"), 200, user_json(id, "123", "Ana Three"));
  EXPECT_ITEM_API(put(id, R"({"dni":123,"name":"Ana"})"), 200, user_json(id, "123", "Ana"));
}

TEST_F(ContractUpdate, SwappingToAFreedDniWorks) {
  const auto ana = create("123", "Ana");
  const auto bo = create("456", "Bo");
  EXPECT_ITEM_API(patch(ana, R"({"dni":"789"})"), 200, user_json(ana, "789", "Ana"));
  EXPECT_ITEM_API(patch(bo, R"({"dni":"123"})"), 200, user_json(bo, "123", "Bo"));
}

TEST_F(ContractUpdate, UpdatesOfAMissingUserAnswer404WhateverTheBody) {
  create("123", "Ana");
  for (const std::int64_t id : {2, 99}) {
    SCOPED_TRACE(id);
    EXPECT_ITEM_API(put(id, R"({"dni":"1","name":"a"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(patch(id, R"({"name":"a"})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(put(id, "{"), 404, kNotFoundBody);
    EXPECT_ITEM_API(patch(id, "{\"dni\":"), 404, kNotFoundBody);
    EXPECT_ITEM_API(put(id, "[]"), 404, kNotFoundBody);
    EXPECT_ITEM_API(patch(id, "null"), 404, kNotFoundBody);
    EXPECT_ITEM_API(put(id, R"({"dni":"123","name":""})"), 404, kNotFoundBody);
    EXPECT_ITEM_API(put(id, "{}"), 404, kNotFoundBody);
    EXPECT_ITEM_API(send("PUT", item(id), "dni=1", "text/plain"), 404, kNotFoundBody);
    EXPECT_ITEM_API(client_.request("PATCH", item(id), "x"), 404, kNotFoundBody);  // no Content-Type
  }
  EXPECT_LIST_API(list(), 200, json_array({user_json(1, "123", "Ana")}));
}

TEST_F(ContractUpdate, UpdateBodyErrorsMatchCreateBodyErrors) {
  const auto id = create("123", "Ana");
  EXPECT_ITEM_API(send("PUT", item(id), "x", "text/plain"), 415,
                  R"({"detail":"Unsupported media type \"text/plain\" in request."})");
  EXPECT_ITEM_API(patch(id, "[1]"), 400,
                  R"({"non_field_errors":["Invalid data. Expected a dictionary, but got list."]})");
  EXPECT_ITEM_API(put(id, "null"), 400, R"({"non_field_errors":["No data provided"]})");
  EXPECT_ITEM_API(patch(id, "null"), 400, R"({"non_field_errors":["No data provided"]})");
  const auto malformed = patch(id, "{");
  EXPECT_EQ(malformed.result_int(), 400);
  EXPECT_TRUE(malformed.body().starts_with(R"({"detail":"JSON parse error - )")) << malformed.body();
  EXPECT_ITEM_API(get(id), 200, user_json(id, "123", "Ana"));
}

}  // namespace
}  // namespace users::testing::contract
