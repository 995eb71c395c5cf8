// api.md "Request bodies": media types, empty bodies, malformed JSON, JSON
// that is not an object, form encoding, repeated and unknown keys, and
// numbers taken as their Python text.
#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

std::string unsupported(std::string_view type) {
  return cat(R"({"detail":"Unsupported media type \")", type, R"(\" in request."})");
}

std::string not_a_dict(std::string_view type) {
  return cat(R"({"non_field_errors":["Invalid data. Expected a dictionary, but got )", type, R"(."]})");
}

class ContractBodies : public ContractTest {
 protected:
  // A 400 whose only key is a "detail" starting with "JSON parse error - ".
  void expect_parse_error(std::string_view content_type, std::string_view body) {
    SCOPED_TRACE(std::string(body));
    const auto response = send("POST", kUsers, body, content_type);
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(header(response, "Content-Type"), "application/json");
    EXPECT_EQ(header(response, "Allow"), kListAllow);
    const auto doc = parse_json(response.body());
    ASSERT_TRUE(doc.is_object()) << response.body();
    EXPECT_EQ(doc.as_object().size(), 1u) << response.body();
    EXPECT_TRUE(response.body().starts_with(R"({"detail":"JSON parse error - )")) << response.body();
    EXPECT_TRUE(response.body().ends_with(R"("})")) << response.body();
    EXPECT_GT(response.body().size(), std::string_view(R"({"detail":"JSON parse error - "})").size())
        << "the detail says nothing of what was wrong";
  }
};

TEST_F(ContractBodies, JsonIsParsedWithOrWithoutACharset) {
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"1","name":"a"})", "application/json"), 201, user_json(1, "1", "a"));
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"2","name":"b"})", "application/json; charset=utf-8"), 201,
                  user_json(2, "2", "b"));
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"3","name":"c"})", "application/json;charset=UTF-8"), 201,
                  user_json(3, "3", "c"));
}

TEST_F(ContractBodies, OtherMediaTypesAnswer415NamingTheTypeAsSent) {
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"1","name":"a"})", "text/plain"), 415,
                  R"({"detail":"Unsupported media type \"text/plain\" in request."})");
  EXPECT_LIST_API(send("POST", kUsers, "<u/>", "application/xml"), 415, unsupported("application/xml"));
  EXPECT_LIST_API(send("POST", kUsers, "dni=1", "text/plain; charset=utf-8"), 415,
                  unsupported("text/plain; charset=utf-8"));
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"1","name":"a"})", "application/jsonx"), 415,
                  unsupported("application/jsonx"));
  EXPECT_LIST_API(send("POST", kUsers, R"({"dni":"1","name":"a"})", "json"), 415, unsupported("json"));
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractBodies, ANonEmptyBodyWithoutContentTypeAnswers415WithAnEmptyType) {
  EXPECT_LIST_API(client_.request("POST", kUsers, R"({"dni":"1","name":"a"})"), 415,
                  R"({"detail":"Unsupported media type \"\" in request."})");
  EXPECT_LIST_API(list(), 200, "[]");
}

// DRF reads an empty body as {} before it looks at the media type.
TEST_F(ContractBodies, AnEmptyBodyCountsAsAnEmptyObject) {
  EXPECT_LIST_API(send("POST", kUsers, "", "application/json"), 400, kBothRequired);
  EXPECT_LIST_API(send("POST", kUsers, "", std::string(kForm)), 400, kBothRequired);
  EXPECT_LIST_API(client_.request("POST", kUsers), 400, kBothRequired);  // no Content-Type at all
  EXPECT_LIST_API(send("POST", kUsers, "", "text/plain"), 400, kBothRequired);
}

TEST_F(ContractBodies, MalformedJsonAnswers400WithAParseError) {
  for (const char* body : {"{",
                           "}",
                           "{\"dni\":}",
                           "{\"dni\":\"1\",}",
                           "{'dni':'1'}",
                           "{dni:1}",
                           "{\"dni\":\"1\"",
                           "{} {}",
                           "{}x",
                           "nul",
                           "tru",
                           "[1,]",
                           "\"abc",
                           "{\"dni\":\"a\tb\"}",
                           "{\"dni\":01}",
                           "{\"dni\":1.}",
                           "{\"dni\":.5}",
                           "{\"dni\":+1}",
                           "{\"dni\":0x10}",
                           "{\"dni\":\"\\x41\"}",
                           "{\"dni\":\"\\u12\"}",
                           "// c\n{}",
                           "\xEF\xBB\xBF{}",
                           "{\"dni\":\"\xFF\"}",
                           " "}) {
    expect_parse_error("application/json", body);
  }
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractBodies, ParseErrorsSayWhere) {
  const auto response = post("{\"dni\":}");
  EXPECT_EQ(response.result_int(), 400);
  // Python's json module reports the place as "line L column C (char N)".
  EXPECT_NE(response.body().find("line 1 column 8 (char 7)"), std::string::npos) << response.body();
  const auto second_line = post("{\"dni\":\"1\",\n \"name\": x}");
  EXPECT_NE(second_line.body().find("line 2 column 10 (char 21)"), std::string::npos) << second_line.body();
}

TEST_F(ContractBodies, NanAndInfinityAreMalformed) {
  for (const char* body : {R"({"dni":NaN,"name":"a"})", R"({"dni":"1","name":Infinity})",
                           R"({"dni":-Infinity,"name":"a"})", "NaN", "Infinity", "-Infinity", "[NaN]"}) {
    expect_parse_error("application/json", body);
  }
  expect_parse_error("application/json; charset=utf-8", R"({"dni":NaN,"name":"a"})");
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractBodies, JsonThatIsNotAnObjectNamesItsPythonType) {
  EXPECT_LIST_API(post("[]"), 400, R"({"non_field_errors":["Invalid data. Expected a dictionary, but got list."]})");
  EXPECT_LIST_API(post(R"([{"dni":"1","name":"a"}])"), 400, not_a_dict("list"));
  EXPECT_LIST_API(post(R"("dni")"), 400, not_a_dict("str"));
  EXPECT_LIST_API(post(R"("")"), 400, not_a_dict("str"));
  EXPECT_LIST_API(post("1"), 400, not_a_dict("int"));
  EXPECT_LIST_API(post("-12345678901234567890123"), 400, not_a_dict("int"));
  EXPECT_LIST_API(post("1.5"), 400, not_a_dict("float"));
  EXPECT_LIST_API(post("1e5"), 400, not_a_dict("float"));
  EXPECT_LIST_API(post("true"), 400, not_a_dict("bool"));
  EXPECT_LIST_API(post("false"), 400, not_a_dict("bool"));
  EXPECT_LIST_API(post(" \n[] \t"), 400, not_a_dict("list"));
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractBodies, JsonNullIsNoDataProvided) {
  EXPECT_LIST_API(post("null"), 400, R"({"non_field_errors":["No data provided"]})");
  EXPECT_LIST_API(post(" null "), 400, R"({"non_field_errors":["No data provided"]})");
}

TEST_F(ContractBodies, ARepeatedKeyLastOneWins) {
  EXPECT_LIST_API(post(R"({"dni":"1","name":"a","dni":"2"})"), 201, user_json(1, "2", "a"));
  EXPECT_LIST_API(post(R"({"dni":null,"name":"a","name":"b","dni":"3"})"), 201, user_json(2, "3", "b"));
  EXPECT_LIST_API(post(R"({"dni":"4","name":"a","name":null})"), 400, R"({"name":["This field may not be null."]})");
  EXPECT_LIST_API(post(R"({"dni":"4","dni":[],"name":"a"})"), 400, R"({"dni":["Not a valid string."]})");
}

TEST_F(ContractBodies, UnknownKeysAndIdAreIgnored) {
  EXPECT_LIST_API(post(R"({"id":50,"dni":"1","name":"a","extra":{"dni":"nested","name":[1,2]},"x":[{"dni":null}]})"),
                  201, user_json(1, "1", "a"));
  EXPECT_LIST_API(post(R"({"id":"abc","dni":"2","name":"b"})"), 201, user_json(2, "2", "b"));
  EXPECT_ITEM_API(get(50), 404, kNotFoundBody);
}

TEST_F(ContractBodies, KeysAreMatchedAfterDecodingTheirEscapes) {
  EXPECT_LIST_API(post(R"({"d\u006ei":"1","n\u0061me":"a"})"), 201, user_json(1, "1", "a"));
}

TEST_F(ContractBodies, FormBodiesDecodePlusAndPercentEscapes) {
  EXPECT_LIST_API(send("POST", kUsers, "dni=12+3&name=Ana+Mar%C3%ADa", kForm), 201,
                  R"({"id":1,"dni":"12 3","name":"Ana María"})");
  EXPECT_LIST_API(send("POST", kUsers, "name=%41%2B%26%3D%25&dni=%31", kForm), 201,
                  R"({"id":2,"dni":"1","name":"A+&=%"})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=+7+&name=+%E4%B8%AD+", kForm), 201, R"({"id":3,"dni":"7","name":"中"})");
}

TEST_F(ContractBodies, FormBodiesAcceptACharsetParameter) {
  EXPECT_LIST_API(send("POST", kUsers, "dni=1&name=a", "application/x-www-form-urlencoded; charset=UTF-8"), 201,
                  user_json(1, "1", "a"));
}

TEST_F(ContractBodies, FormRepeatedKeyLastOneWins) {
  EXPECT_LIST_API(send("POST", kUsers, "dni=1&name=a&dni=2&name=b", kForm), 201, user_json(1, "2", "b"));
}

TEST_F(ContractBodies, FormValuesAreAlwaysText) {
  EXPECT_LIST_API(send("POST", kUsers, "dni=null&name=true", kForm), 201, user_json(1, "null", "true"));
  EXPECT_LIST_API(send("POST", kUsers, "dni=1.50&name=%5B%5D", kForm), 201, user_json(2, "1.50", "[]"));
}

TEST_F(ContractBodies, FormMissingAndEmptyValues) {
  EXPECT_LIST_API(send("POST", kUsers, "name=a", kForm), 400, R"({"dni":["This field is required."]})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=&name=a", kForm), 400, R"({"dni":["This field may not be blank."]})");
  EXPECT_LIST_API(send("POST", kUsers, "dni&name=a", kForm), 400, R"({"dni":["This field may not be blank."]})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=+++&name=%20", kForm), 400,
                  R"({"dni":["This field may not be blank."],"name":["This field may not be blank."]})");
  EXPECT_LIST_API(send("POST", kUsers, "other=1&id=5", kForm), 400, kBothRequired);
}

// Python's parse_qsl: "&" alone separates pairs; bad escapes stay as they
// are; bytes that are not UTF-8 become U+FFFD.
TEST_F(ContractBodies, FormDecodingFollowsPython) {
  // One pair: dni is "7;name=x", and name is missing.
  EXPECT_LIST_API(send("POST", kUsers, "dni=7;name=x", kForm), 400, R"({"name":["This field is required."]})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=1&name=50%", kForm), 201, user_json(1, "1", "50%"));
  EXPECT_LIST_API(send("POST", kUsers, "dni=2&name=%zz%4", kForm), 201, user_json(2, "2", "%zz%4"));
  EXPECT_LIST_API(send("POST", kUsers, "dni=3&name=a%FFb", kForm), 201, R"({"id":3,"dni":"3","name":"a�b"})");
  EXPECT_LIST_API(send("POST", kUsers, "dni=4&&name=d&", kForm), 201, user_json(4, "4", "d"));
}

TEST_F(ContractBodies, NumbersAreTakenAsTheirPythonText) {
  struct Case {
    const char* json;
    const char* text;
  };
  const Case cases[] = {
      {"123", "123"},
      {"0", "0"},
      {"-0", "0"},
      {"-12", "-12"},
      {"1.5", "1.5"},
      {"1.0", "1.0"},
      {"1.10", "1.1"},
      {"-0.0", "-0.0"},
      {"0.1", "0.1"},
      {"1e5", "100000.0"},
      {"1E5", "100000.0"},
      {"1e+5", "100000.0"},
      {"2.50e1", "25.0"},
      {"1e15", "1000000000000000.0"},
      {"1e16", "1e+16"},
      {"1e22", "1e+22"},
      {"0.0001", "0.0001"},
      {"0.00001", "1e-05"},
      {"1e-7", "1e-07"},
      {"123456789.123", "123456789.123"},
      {"0.1e1", "1.0"},
      {"1.7976931348623157e308", "1.7976931348623157e+308"},
      {"5e-324", "5e-324"},
      {"18446744073709551616", "18446744073709551616"},
      {"-9223372036854775809", "-9223372036854775809"},
      {"123456789012345678901234567890", "123456789012345678901234567890"},
  };
  std::int64_t id = 0;
  for (const auto& [json, text] : cases) {
    SCOPED_TRACE(json);
    ++id;
    const std::string dni = cat("n", std::to_string(id));
    EXPECT_LIST_API(post(cat(R"({"dni":")", dni, R"(","name":)", json, "}")), 201, user_json(id, dni, text));
  }
}

TEST_F(ContractBodies, NumbersBeyondTheFloatRangeBecomeInf) {
  // Python reads 1e400 as float("inf"), whose str() is "inf".
  EXPECT_LIST_API(post(R"({"dni":1e400,"name":-1e400})"), 201, user_json(1, "inf", "-inf"));
}

TEST_F(ContractBodies, NumberTextIsValidatedLikeAnyText) {
  EXPECT_LIST_API(post(R"({"dni":1234567890123,"name":1})"), 201, user_json(1, "1234567890123", "1"));
  EXPECT_LIST_API(post(R"({"dni":12345678901234,"name":1234567890123456789012345678901})"), 400,
                  R"({"dni":["Ensure this field has no more than 13 characters."],)"
                  R"("name":["Ensure this field has no more than 30 characters."]})");
  // 1e16 is "1e+16" (5 characters); 1e15 is "1000000000000000.0" (18).
  EXPECT_LIST_API(post(R"({"dni":1e16,"name":"a"})"), 201, user_json(2, "1e+16", "a"));
  EXPECT_LIST_API(post(R"({"dni":1e15,"name":"a"})"), 400,
                  R"({"dni":["Ensure this field has no more than 13 characters."]})");
  EXPECT_LIST_API(post(R"({"dni":1234567890123,"name":"b"})"), 400, kAlreadyExists);
}

}  // namespace
}  // namespace users::testing::contract
