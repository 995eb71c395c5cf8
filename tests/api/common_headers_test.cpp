// The header lines every answer carries besides its own: Django's security
// middleware's four (sent as fixed lines, not Beast fields: see
// http::Response::fixed_headers) and the Date RFC 9110 6.6.1 requires of an
// origin server with a clock, on short answers, errors, HEAD, the HTML pages
// and a list streamed in chunks alike.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>
#include <string>

#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;

// Seconds since the epoch of an IMF-fixdate ("Tue, 01 Dec 2026 22:09:45 GMT"),
// or -1 when the text is not one.
std::int64_t parse_imf_fixdate(const std::string& text) {
  std::tm parts{};
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> std::get_time(&parts, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail() || text.size() != 29) return -1;
  return static_cast<std::int64_t>(timegm(&parts));
}

void expect_common_headers(const HttpResponse& response) {
  SCOPED_TRACE(::testing::Message() << "status " << response.result_int());
  EXPECT_EQ(response.count("X-Frame-Options"), 1U);
  EXPECT_EQ(response["X-Frame-Options"], "DENY");
  EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(response["Referrer-Policy"], "same-origin");
  EXPECT_EQ(response["Cross-Origin-Opener-Policy"], "same-origin");
  ASSERT_EQ(response.count(bhttp::field::date), 1U);
  const auto sent = parse_imf_fixdate(std::string(response[bhttp::field::date]));
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NE(sent, -1) << response[bhttp::field::date];
  EXPECT_LE(std::abs(now - sent), 5) << response[bhttp::field::date];
}

TEST(CommonHeaders, EveryKindOfAnswerHasTheSecurityLinesAndADate) {
  TestServer server;
  HttpClient client(server.port());
  const auto created = client.post_json("/api/users/", R"({"dni":"1","name":"Ana"})");
  ASSERT_EQ(created.result_int(), 201);
  expect_common_headers(created);
  const auto read = client.get("/api/users/1/");
  ASSERT_EQ(read.result_int(), 200);
  expect_common_headers(read);
  EXPECT_EQ(read[bhttp::field::content_length], "31");
  EXPECT_EQ(read.body(), R"({"id":1,"dni":"1","name":"Ana"})");
  expect_common_headers(client.get("/api/users/99/"));
  expect_common_headers(client.post_json("/api/users/", R"({"dni":"1"})"));
  expect_common_headers(client.request("HEAD", "/api/users/1/"));
  expect_common_headers(client.request("OPTIONS", "/api/users/"));
  expect_common_headers(client.get("/api/users"));  // the redirect
  const auto page = client.request("GET", "/api/users/", {}, {{"Accept", "text/html"}});
  ASSERT_EQ(page.result_int(), 200);
  expect_common_headers(page);
  EXPECT_NE(page["Content-Security-Policy"].find("default-src 'none'"), boost::string_view::npos);
}

TEST(CommonHeaders, AStreamedListHasThemToo) {
  TestServer server;
  insert_users(server, 1500);
  HttpClient client(server.port());
  const auto list = client.get("/api/users/");
  ASSERT_EQ(list.result_int(), 200);
  EXPECT_EQ(list[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(list["Content-Type"], "application/json");
  expect_common_headers(list);
  EXPECT_EQ(list.body().front(), '[');
  EXPECT_EQ(list.body().back(), ']');
  const auto head = client.request("HEAD", "/api/users/");
  EXPECT_EQ(head.result_int(), 200);
  expect_common_headers(head);
  EXPECT_EQ(client.get("/api/users/1/").result_int(), 200) << "the connection is still in step";
}

}  // namespace
}  // namespace users::testing
