#include "api/request_body.hpp"

#include <gtest/gtest.h>

namespace users::api {
namespace {

using domain::FieldInput;
using Kind = FieldInput::Kind;

TEST(ParseJsonUser, ReadsTopLevelFieldsOnly) {
  const auto input = parse_json_user(R"({"dni":"1","name":"Ana","nested":{"dni":"no"},"id":9})");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->dni.kind, Kind::kString);
  EXPECT_EQ(input->dni.text, "1");
  EXPECT_EQ(input->name.text, "Ana");
}

TEST(ParseJsonUser, LastRepeatedKeyWins) {
  const auto input = parse_json_user(R"({"dni":{"a":[1]},"dni":"2"})");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->dni.kind, Kind::kString);
  EXPECT_EQ(input->dni.text, "2");
}

TEST(ParseJsonUser, NumbersBecomePythonText) {
  const struct {
    const char* json;
    const char* text;
  } cases[] = {{"123", "123"},   {"-0", "0"},
               {"1.5", "1.5"},   {"1e5", "100000.0"},
               {"1E400", "inf"}, {"123456789012345678901234567890", "123456789012345678901234567890"},
               {"0.1", "0.1"},   {"-2.50", "-2.5"}};
  for (const auto& c : cases) {
    const auto input = parse_json_user(std::string(R"({"dni":)") + c.json + "}");
    ASSERT_TRUE(input) << c.json;
    EXPECT_EQ(input->dni.kind, Kind::kNumber) << c.json;
    EXPECT_EQ(input->dni.text, c.text) << c.json;
  }
}

TEST(ParseJsonUser, KindsOfValues) {
  const auto input = parse_json_user(R"({"dni":true,"name":null})");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->dni.kind, Kind::kBool);
  EXPECT_EQ(input->dni.text, "True");
  EXPECT_EQ(input->name.kind, Kind::kNull);
  EXPECT_EQ(parse_json_user(R"({"dni":[]})")->dni.kind, Kind::kArray);
  EXPECT_EQ(parse_json_user(R"({"dni":{}})")->dni.kind, Kind::kObject);
}

TEST(ParseJsonUser, NonObjectsAreNamedAsPythonNamesThem) {
  const struct {
    const char* json;
    const char* body;
  } cases[] = {
      {"[1]", R"({"non_field_errors":["Invalid data. Expected a dictionary, but got list."]})"},
      {R"("x")", R"({"non_field_errors":["Invalid data. Expected a dictionary, but got str."]})"},
      {"1", R"({"non_field_errors":["Invalid data. Expected a dictionary, but got int."]})"},
      {"1.0", R"({"non_field_errors":["Invalid data. Expected a dictionary, but got float."]})"},
      {"false", R"({"non_field_errors":["Invalid data. Expected a dictionary, but got bool."]})"},
      {"null", R"({"non_field_errors":["No data provided"]})"},
  };
  for (const auto& c : cases) {
    const auto input = parse_json_user(c.json);
    ASSERT_FALSE(input) << c.json;
    EXPECT_EQ(input.error().json, c.body);
  }
}

TEST(ParseJsonUser, MalformedJsonSaysWhereInPythonTerms) {
  for (const char* json : {"{", "{\"dni\":}", "NaN", "{\"a\":Infinity}", "{} x", "{'a':1}", "\"\xFF\""}) {
    const auto input = parse_json_user(json);
    ASSERT_FALSE(input) << json;
    EXPECT_EQ(input.error().status, boost::beast::http::status::bad_request);
    EXPECT_TRUE(input.error().json.starts_with(R"({"detail":"JSON parse error - )")) << input.error().json;
    EXPECT_NE(input.error().json.find("line 1 column"), std::string::npos) << input.error().json;
  }
}

TEST(ParseJsonUser, SurroundingWhiteSpaceIsFine) {
  EXPECT_TRUE(parse_json_user(" \n{\"dni\":\"1\"}\r\n\t "));
}

TEST(ParseJsonUser, DeepNestingIsRefusedNotRecursed) {
  const auto input = parse_json_user(std::string(100000, '['));
  ASSERT_FALSE(input);
  EXPECT_NE(input.error().json.find("Nesting too deep"), std::string::npos);
}

TEST(ParseFormUser, DecodesLikeDjangoQueryDict) {
  const auto input = parse_form_user("dni=1&name=Ana+Mar%C3%ADa&dni=2&x=y");
  EXPECT_EQ(input.dni.text, "2");
  EXPECT_EQ(input.name.text, "Ana María");
  const auto lenient = parse_form_user("name=caf\xC3\xA9 100%&dni=%FF");
  EXPECT_EQ(lenient.name.text, "café 100%");
  EXPECT_EQ(lenient.dni.text, "\xEF\xBF\xBD");
}

TEST(ParseUserBody, ChoosesTheParserByMediaType) {
  EXPECT_TRUE(parse_user_body("application/json; charset=utf-8", R"({"dni":"1"})"));
  EXPECT_TRUE(parse_user_body("APPLICATION/JSON", R"({"dni":"1"})"));
  EXPECT_TRUE(parse_user_body("application/x-www-form-urlencoded", "dni=1"));
  EXPECT_TRUE(parse_user_body("*/*", R"({"dni":"1"})"));
  const auto other = parse_user_body("text/plain; charset=utf-8", "x");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().status, boost::beast::http::status::unsupported_media_type);
  EXPECT_EQ(other.error().json, R"({"detail":"Unsupported media type \"text/plain; charset=utf-8\" in request."})");
  const auto missing = parse_user_body("", "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().json, R"({"detail":"Unsupported media type \"\" in request."})");
}

TEST(ParseUserBody, EmptyBodyIsAnEmptyObjectWhateverTheType) {
  const auto input = parse_user_body("text/plain", "");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->dni.kind, Kind::kAbsent);
}

}  // namespace
}  // namespace users::api
