#include "api/request_body.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <string_view>

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

std::string repeated(std::string_view unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

// The results parse_form_user gave before it was made linear (issue 15),
// kept exactly: each of these bodies is one a hostile client can send.
TEST(ParseFormUser, HostileBodiesReadAsBefore) {
  constexpr std::size_t kMiB = std::size_t{1} << 20U;
  const std::string fffd = "\xEF\xBF\xBD";
  for (const char filler : {'\xFF', '%', '&', '=', '+'}) {
    const auto input = parse_form_user(std::string(kMiB, filler));
    EXPECT_EQ(input.dni.kind, Kind::kAbsent) << int{filler};
    EXPECT_EQ(input.name.kind, Kind::kAbsent) << int{filler};
  }
  EXPECT_EQ(parse_form_user(repeated("a=%ZZ", kMiB / 5)).dni.kind, Kind::kAbsent);
  EXPECT_EQ(parse_form_user(repeated("\xE2\x82\xAC", kMiB / 3)).name.kind, Kind::kAbsent);

  // Raw invalid bytes: each becomes one U+FFFD.
  const auto invalid = parse_form_user("name=" + std::string(kMiB, '\xFF'));
  EXPECT_EQ(invalid.name.kind, Kind::kString);
  EXPECT_EQ(invalid.name.text, repeated(fffd, kMiB));
  // Raw and escaped UTF-8 decode alike.
  EXPECT_EQ(parse_form_user("name=" + repeated("\xE2\x82\xAC", 1000)).name.text, repeated("\xE2\x82\xAC", 1000));
  EXPECT_EQ(parse_form_user("name=" + repeated("%E2%82%AC", 1000)).name.text, repeated("\xE2\x82\xAC", 1000));
  // A truncated sequence between ASCII runs.
  EXPECT_EQ(parse_form_user("name=ab%E2%82cd\xC3").name.text, "ab" + fffd + fffd + "cd" + fffd);
  // Lone and broken escapes stay as written; "+" is a space, "%2B" a plus.
  EXPECT_EQ(parse_form_user("dni=%ZZ%4%%41+%2B").dni.text, "%ZZ%4%A +");
  EXPECT_EQ(parse_form_user("dni=" + std::string(1000, '%')).dni.text, std::string(1000, '%'));

  // Many keys: the last "dni" and "name" win, wherever they are, and a key
  // is compared decoded.
  const auto many = parse_form_user(repeated("a=1&dni=x&name=\xFF&", 50000) + "%64%6E%69=last&n%61me=N&zz");
  EXPECT_EQ(many.dni.text, "last");
  EXPECT_EQ(many.name.text, "N");
  const auto repeats = parse_form_user(repeated("dni=1&", 100000) + "dni=2&name&" + repeated("&", 1000));
  EXPECT_EQ(repeats.dni.text, "2");
  EXPECT_EQ(repeats.name.kind, Kind::kString);  // a key without "=" is an empty value
  EXPECT_EQ(repeats.name.text, "");
  // Keys that only look like the wanted ones.
  const auto lookalikes = parse_form_user("dni+=1&d+ni=2&%64ni%20=3&dn=4&dnii=5&DNI=6&name%00=7&=8");
  EXPECT_EQ(lookalikes.dni.kind, Kind::kAbsent);
  EXPECT_EQ(lookalikes.name.kind, Kind::kAbsent);
  // "=" after the first belongs to the value; NUL bytes are kept.
  EXPECT_EQ(parse_form_user("dni==a=b").dni.text, "=a=b");
  EXPECT_EQ(parse_form_user(std::string("dni=a\0b%00", 10)).dni.text, std::string("a\0b\0", 4));
}

// Bodies that end where readable memory ends, before a page that faults: a
// reader that looks past them (Boost.URL 1.81's parse_query measures its
// buffer with strlen) crashes here with or without ASan. Found by tests/fuzz
// (request_body: the empty input, then "dni=1").
TEST(ParseFormUser, ABodyIsReadWithoutLookingPastItsEnd) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* pages = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(pages, MAP_FAILED);
  char* const guard = static_cast<char*>(pages) + page;
  ASSERT_EQ(::mprotect(guard, page, PROT_NONE), 0);
  const auto at_the_end = [guard](std::string_view body) {
    char* const start = guard - body.size();
    body.copy(start, body.size());
    return parse_form_user(std::string_view(start, body.size()));
  };
  const auto empty = at_the_end("");
  EXPECT_EQ(empty.dni.kind, Kind::kAbsent);
  EXPECT_EQ(empty.name.kind, Kind::kAbsent);
  const auto plain = at_the_end("dni=1&name=Ana");
  EXPECT_EQ(plain.dni.text, "1");
  EXPECT_EQ(plain.name.text, "Ana");
  const auto escaped = at_the_end("dni=%&name=\xC3\xA9");
  EXPECT_EQ(escaped.dni.text, "%");
  EXPECT_EQ(escaped.name.text, "\xC3\xA9");
  ::munmap(pages, 2 * page);
}

// A view of the first bytes of a longer text holds those bytes alone.
TEST(ParseFormUser, AViewEndsWhereItSays) {
  const std::string text = "dni=1&name=Ana&dni=2";
  EXPECT_EQ(parse_form_user(std::string_view(text).substr(0, 14)).dni.text, "1");
  EXPECT_EQ(parse_form_user(std::string_view(text).substr(0, 5)).name.kind, Kind::kAbsent);
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

// Header bytes past 0x7F are ISO-8859-1, as WSGI reads them, so the 415 body
// stays UTF-8: they were copied as they came, and {"detail":"... \xFF ..."}
// is no JSON. Found by tests/fuzz (request_body and request_path,
// "Content-Type: \xFF\xFF\xFF\xFFencoded").
TEST(ParseUserBody, AMediaTypeOutsideAsciiIsQuotedAsLatin1) {
  const auto refused = parse_user_body("text/\xFF\xE9\x80", "x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().json,
            "{\"detail\":\"Unsupported media type \\\"text/\xC3\xBF\xC3\xA9\xC2\x80\\\" in request.\"}");
  EXPECT_EQ(refused.error().message, "Unsupported media type \"text/\xC3\xBF\xC3\xA9\xC2\x80\" in request.");
}

TEST(ParseUserBody, EmptyBodyIsAnEmptyObjectWhateverTheType) {
  const auto input = parse_user_body("text/plain", "");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->dni.kind, Kind::kAbsent);
}

}  // namespace
}  // namespace users::api
