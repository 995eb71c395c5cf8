// DNI_PATTERN: the reference's dni field with a RegexValidator on the model,
// as DRF answers it: whole-dni match after trimming, "Enter a valid value."
// before the length and null-character messages and before uniqueness, on
// POST, PUT and PATCH (when the dni is sent); users stored before the
// setting are not checked again until their dni is sent.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

// Spain's DNI: eight digits and a capital letter.
constexpr std::string_view kSpain = "[0-9]{8}[A-Z]";
constexpr std::string_view kInvalid = R"({"dni":["Enter a valid value."]})";

std::string user_body(std::string_view dni, std::string_view name) {
  return cat(R"({"dni":")", dni, R"(","name":")", name, R"("})");
}

// One server with DNI_PATTERN set, one client.
class DniPattern : public ::testing::Test {
 protected:
  HttpResponse send(std::string_view method, std::string_view target, std::string_view body,
                    std::string_view content_type) {
    return client_.request(method, target, body, {{"Content-Type", std::string(content_type)}});
  }

  TestServer server_{with_env({{"DNI_PATTERN", std::string(kSpain)}})};
  HttpClient client_{server_.port()};
};

TEST_F(DniPattern, AMatchingDniIsAcceptedOnPostPutAndPatch) {
  auto created = client_.post_json(kUsers, user_body("12345678Z", "Ana"));
  EXPECT_LIST_API(created, 201, user_json(1, "12345678Z", "Ana"));
  EXPECT_ITEM_API(client_.put_json(item(1), user_body("87654321X", "Bea")), 200, user_json(1, "87654321X", "Bea"));
  EXPECT_ITEM_API(client_.patch_json(item(1), R"({"dni":"11111111H"})"), 200, user_json(1, "11111111H", "Bea"));
  EXPECT_ITEM_API(client_.patch_json(item(1), R"({"name":"Cruz"})"), 200, user_json(1, "11111111H", "Cruz"));
}

TEST_F(DniPattern, TheDniIsMatchedAfterDrfsTrimming) {
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"dni":"  12345678Z\n","name":"Ana"})"), 201,
                  user_json(1, "12345678Z", "Ana"));
  // A JSON number is matched as its text.
  auto number = client_.post_json(kUsers, R"({"dni":12345678,"name":"Bea"})");
  EXPECT_LIST_API(number, 400, kInvalid);
}

TEST_F(DniPattern, ANonMatchingDniIsRefusedOnPostPutAndPatch) {
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("abc", "Ana")), 400, kInvalid);
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("12345678z", "Ana")), 400, kInvalid);   // case-sensitive
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("012345678Z", "Ana")), 400, kInvalid);  // whole dni only
  ASSERT_EQ(client_.post_json(kUsers, user_body("12345678Z", "Ana")).result_int(), 201);
  EXPECT_ITEM_API(client_.put_json(item(1), user_body("abc", "Bea")), 400, kInvalid);
  EXPECT_ITEM_API(client_.patch_json(item(1), R"({"dni":"abc"})"), 400, kInvalid);
  // Nothing changed.
  EXPECT_ITEM_API(client_.get(item(1)), 200, user_json(1, "12345678Z", "Ana"));
  EXPECT_LIST_API(client_.get(kUsers), 200, json_array({user_json(1, "12345678Z", "Ana")}));
}

TEST_F(DniPattern, LookAlikeCharactersDoNotMatch) {
  // Full-width digits, a zero-width space, a Greek capital Zeta.
  for (const char* dni : {"\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96\xEF\xBC\x97"
                          "\xEF\xBC\x98Z",
                          "1234\xE2\x80\x8B"
                          "5678Z",
                          "12345678\xCE\x96"}) {
    SCOPED_TRACE(dni);
    EXPECT_LIST_API(client_.post_json(kUsers, user_body(dni, "Ana")), 400, kInvalid);
  }
}

TEST_F(DniPattern, ErrorsComeInDrfsOrder) {
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("12345678901234", "Ana")), 400,
                  R"({"dni":["Enter a valid value.","Ensure this field has no more than 13 characters."]})");
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"dni":"1234\u00005678Z","name":"Ana"})"), 400,
                  R"({"dni":["Enter a valid value.","Null characters are not allowed."]})");
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"dni":"12345678901234\u0000","name":"Ana"})"), 400,
                  R"({"dni":["Enter a valid value.","Ensure this field has no more than 13 characters.",)"
                  R"("Null characters are not allowed."]})");
  // A dni the pattern would accept only trips the other rules.
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("abc", "")), 400,
                  R"({"dni":["Enter a valid value."],"name":["This field may not be blank."]})");
  // Errors before the validators stop there: no pattern message.
  EXPECT_LIST_API(client_.post_json(kUsers, user_body("  ", "Ana")), 400,
                  R"({"dni":["This field may not be blank."]})");
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"dni":null,"name":"Ana"})"), 400,
                  R"({"dni":["This field may not be null."]})");
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"dni":true,"name":"Ana"})"), 400, R"({"dni":["Not a valid string."]})");
  EXPECT_LIST_API(client_.post_json(kUsers, R"({"name":"Ana"})"), 400, R"({"dni":["This field is required."]})");
  EXPECT_LIST_API(client_.get(kUsers), 200, "[]");
}

TEST_F(DniPattern, TheBrowsableFormShowsTheError) {
  const auto page = client_.request("POST", kUsers, "dni=abc&name=Ana",
                                    {{"Accept", "text/html"}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(page.result_int(), 400);
  EXPECT_TRUE(header(page, "Content-Type").starts_with("text/html")) << header(page, "Content-Type");
  EXPECT_NE(page.body().find("Enter a valid value."), std::string::npos) << page.body();
  const auto json = send("POST", kUsers, "dni=abc&name=Ana", "application/x-www-form-urlencoded");
  EXPECT_LIST_API(json, 400, kInvalid);
}

TEST_F(DniPattern, ACatastrophicPatternCannotStallTheServer) {
  TestServer server(with_env({{"DNI_PATTERN", "(a+)+b"}}));
  HttpClient client(server.port());
  for (const std::size_t length : {std::size_t{13}, std::size_t{900}, std::size_t{60000}}) {
    SCOPED_TRACE(length);
    const auto start = std::chrono::steady_clock::now();
    const auto response = client.post_json(kUsers, user_body(std::string(length, 'a'), "Ana"));
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_TRUE(response.body().starts_with(R"({"dni":["Enter a valid value.")")) << response.body().substr(0, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  }
  EXPECT_LIST_API(client.post_json(kUsers, user_body("aaab", "Ana")), 201, user_json(1, "aaab", "Ana"));
}

TEST_F(DniPattern, TheStartupLineShowsThePattern) {
  EXPECT_NE(server_.stdout_text().find(R"("dni_pattern":"[0-9]{8}[A-Z]")"), std::string::npos) << server_.stdout_text();
}

// Users stored before DNI_PATTERN was set: read and renamed as before; their
// dni is matched only when a request sends it.
TEST(DniPatternOnStoredUsers, AreNotCheckedAgainUntilTheirDniIsSent) {
  TestServer before;
  {
    HttpClient client(before.port());
    ASSERT_EQ(client.post_json(kUsers, user_body("abc", "Ana")).result_int(), 201);
    ASSERT_EQ(client.post_json(kUsers, user_body("12345678Z", "Bea")).result_int(), 201);
  }
  ASSERT_EQ(before.stop(), 0);
  TestServer server(with_env({{"DNI_PATTERN", std::string(kSpain)}, {"DATABASE_URL", before.database_url()}}));
  HttpClient client(server.port());
  EXPECT_ITEM_API(client.get(item(1)), 200, user_json(1, "abc", "Ana"));
  EXPECT_ITEM_API(client.patch_json(item(1), R"({"name":"Ana Mar"})"), 200, user_json(1, "abc", "Ana Mar"));
  EXPECT_ITEM_API(client.put_json(item(1), user_body("abc", "Ana")), 400, kInvalid);
  EXPECT_ITEM_API(client.patch_json(item(1), R"({"dni":"abc"})"), 400, kInvalid);
  // DRF's UniqueValidator follows the pattern's: both messages.
  constexpr std::string_view kInvalidAndTaken =
      R"({"dni":["Enter a valid value.","user with this dni already exists."]})";
  EXPECT_ITEM_API(client.put_json(item(2), user_body("abc", "Bea")), 400, kInvalidAndTaken);
  EXPECT_ITEM_API(client.patch_json(item(2), R"({"dni":" abc"})"), 400, kInvalidAndTaken);
  EXPECT_LIST_API(client.post_json(kUsers, user_body(" abc", "Cruz")), 400, kInvalidAndTaken);
  // The reference's own check on the dni as sent comes first of all.
  EXPECT_LIST_API(client.post_json(kUsers, user_body("abc", "Cruz")), 400, kAlreadyExists);
  EXPECT_LIST_API(client.get(kUsers), 200,
                  json_array({user_json(1, "abc", "Ana Mar"), user_json(2, "12345678Z", "Bea")}));
}

// The default is the reference's: any dni.
TEST(DniPatternUnset, AnyDniIsAccepted) {
  for (const char* value : {static_cast<const char*>(""), static_cast<const char*>(nullptr)}) {
    SCOPED_TRACE(value == nullptr ? "unset" : "empty");
    TestServer server(value == nullptr ? ServerOptions{} : with_env({{"DNI_PATTERN", value}}));
    HttpClient client(server.port());
    EXPECT_LIST_API(client.post_json(kUsers, user_body("abc", "Ana")), 201, user_json(1, "abc", "Ana"));
    EXPECT_LIST_API(client.post_json(kUsers, user_body("12345678901234", "Ana")), 400,
                    R"({"dni":["Ensure this field has no more than 13 characters."]})");
    EXPECT_EQ(server.stdout_text().find("dni_pattern"), std::string::npos);
  }
}

}  // namespace
}  // namespace users::testing::contract
