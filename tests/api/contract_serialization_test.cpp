// api.md "Resource": compact JSON, keys id, dni, name in that order,
// non-ASCII as raw UTF-8, escaping as DRF's JSONRenderer does it.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

class ContractSerialization : public ContractTest {
 protected:
  // The same bytes from POST, GET of the item, and GET of the list.
  void expect_everywhere(std::string_view request_json, std::string_view expected) {
    SCOPED_TRACE(std::string(request_json));
    const auto created = post(request_json);
    EXPECT_LIST_API(created, 201, expected);
    const auto value = parse_json(created.body());
    if (!value.is_object() || !value.as_object().contains("id")) return;
    const auto id = value.at("id").as_int64();
    EXPECT_ITEM_API(get(id), 200, expected);
    EXPECT_LIST_API(list(), 200, json_array({expected}));
    EXPECT_EQ(client_.del(item(id)).result_int(), 204);
  }
};

TEST_F(ContractSerialization, CompactWithKeysInOrder) {
  expect_everywhere("{ \"name\" : \"Ana\" ,\n \"dni\" : \"0987\" }", R"({"id":1,"dni":"0987","name":"Ana"})");
}

TEST_F(ContractSerialization, NonAsciiIsRawUtf8) {
  // Sent as \u escapes, answered as UTF-8 bytes.
  expect_everywhere(R"({"dni":"\u00f1\u00e9","name":"Jos\u00e9 \u4e2d\u6587 \ud83d\ude00 \u0416"})",
                    R"({"id":1,"dni":"ñé","name":"José 中文 😀 Ж"})");
  // Sent raw.
  expect_everywhere(R"({"dni":"ñé","name":"José 中文 😀 Ж"})", R"({"id":2,"dni":"ñé","name":"José 中文 😀 Ж"})");
}

TEST_F(ContractSerialization, QuotesBackslashesAndControlCharactersAreEscaped) {
  // Python's json.dumps: short escapes for " \ \n \r \t \b \f, \u00XX (lower
  // case) for the other control characters; "/" and DEL stay as they are.
  expect_everywhere(R"({"dni":"a\"b\\c","name":"x\n\r\t\b\f\u0001\u001b\u001f\u007f/<>&'y"})",
                    "{\"id\":1,\"dni\":\"a\\\"b\\\\c\",\"name\":\"x\\n\\r\\t\\b\\f\\u0001\\u001b\\u001f\x7f/<>&'y\"}");
}

TEST_F(ContractSerialization, LineAndParagraphSeparatorsAreEscaped) {
  // DRF's JSONRenderer escapes U+2028 and U+2029 (they end a line in JavaScript).
  expect_everywhere(R"({"dni":"a\u2028b","name":"c\u2029d"})", R"({"id":1,"dni":"a\u2028b","name":"c\u2029d"})");
  expect_everywhere("{\"dni\":\"1\",\"name\":\"x\u2028\u2029\u2028y\"}",
                    R"({"id":2,"dni":"1","name":"x\u2028\u2029\u2028y"})");
}

TEST_F(ContractSerialization, OtherUnicodeSpacesAndFormatCharactersStayRaw) {
  expect_everywhere(R"({"dni":"a\u00a0b","name":"c\u3000d\u200be\u0085f\ufeffg"})",
                    "{\"id\":1,\"dni\":\"a\u00a0b\",\"name\":\"c\u3000d\u200be\u0085f\ufeffg\"}");
}

TEST_F(ContractSerialization, ResponsesAreApplicationJson) {
  const auto created = post(R"({"dni":"1","name":"a"})");
  EXPECT_EQ(header(created, "Content-Type"), "application/json");
  EXPECT_EQ(header(list(), "Content-Type"), "application/json");
  EXPECT_EQ(header(get(1), "Content-Type"), "application/json");
  EXPECT_EQ(header(get(2), "Content-Type"), "application/json");
  EXPECT_EQ(header(client_.get("/api/"), "Content-Type"), "application/json");
  EXPECT_EQ(header(post("{}"), "Content-Type"), "application/json");
}

TEST_F(ContractSerialization, ManyUsersListCompactlyInOrder) {
  std::string expected = "[";
  for (int i = 1; i <= 25; ++i) {
    const std::string dni = std::to_string(1000 + i);
    const std::string name = cat("User ", std::to_string(i));
    ASSERT_EQ(create(dni, name), i);
    if (i > 1) expected += ',';
    expected += user_json(i, dni, name);
  }
  expected += ']';
  EXPECT_LIST_API(list(), 200, expected);
}

}  // namespace
}  // namespace users::testing::contract
