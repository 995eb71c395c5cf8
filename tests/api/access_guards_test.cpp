// Hosts, origins, rates and proxies on the real binary: ALLOWED_HOSTS,
// RFC 9112's one Host, CORS preflights and headers, the cross-site form
// guard, DRF's throttles, and TRUSTED_PROXIES. The default settings change
// nothing a client of the reference sees.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <thread>

#include "auth/openssl.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::string_view kInvalidHost = R"({"detail":"Invalid host header."})";

HttpResponse call(const TestServer& server, std::string_view method, std::string_view target, const Headers& headers,
                  std::string_view body = {}) {
  HttpClient client(server.port());
  return client.request(method, target, body, headers);
}

std::string sha256_hex(std::string_view text) {
  const auto digest = auth::sha256(text);
  return auth::to_hex(digest.data(), digest.size());
}

// The access log lines of the server, parsed.
std::vector<boost::json::object> access_lines(const TestServer& server) {
  std::vector<boost::json::object> lines;
  std::istringstream out(server.stdout_text());
  for (std::string line; std::getline(out, line);) {
    if (line.find(R"("msg":"request")") == std::string::npos) continue;
    lines.push_back(boost::json::parse(line).as_object());
  }
  return lines;
}

TEST(Hosts, ByDefaultEveryHostIsServed) {
  TestServer server;
  const auto response = call(server, "GET", "/api/", {{"Host", "anything.example:1234"}});
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"users":"http://anything.example:1234/api/users/"})");
}

TEST(Hosts, AHostNotAllowedGets400AndIsNeverEchoed) {
  TestServer server(with_env({{"ALLOWED_HOSTS", "api.example.com,.internal.example"}}));
  for (const auto* target : {"/api/", "/api/users/", "/api/users/1/", "/api/schema/", "/nowhere"}) {
    const auto response = call(server, "GET", target, {{"Host", "evil.example:1234"}});
    EXPECT_EQ(response.result_int(), 400) << target;
    EXPECT_EQ(response.body(), kInvalidHost) << target;
    EXPECT_EQ(response.body().find("evil"), std::string::npos);
  }
  EXPECT_EQ(call(server, "GET", "/api/", {{"Host", "API.example.com:8000"}}).body(),
            R"({"users":"http://API.example.com:8000/api/users/"})");
  EXPECT_EQ(call(server, "GET", "/api/", {{"Host", "a.b.internal.example"}}).result_int(), 200);
  EXPECT_EQ(call(server, "GET", "/api/", {{"Host", "internal.example"}}).result_int(), 200);
  EXPECT_EQ(call(server, "GET", "/api/", {{"Host", "notinternal.example"}}).result_int(), 400);
}

TEST(Hosts, ProbesAndMetricsAnswerWhateverTheHost) {
  TestServer server(with_env({{"ALLOWED_HOSTS", "api.example.com"}}));
  for (const auto* target : {"/healthz", "/readyz", "/metrics"}) {
    EXPECT_EQ(call(server, "GET", target, {{"Host", "10.1.2.3:8000"}}).result_int(), 200) << target;
  }
}

TEST(Hosts, AnHttp11RequestWithoutHostOrWithTwoGets400) {
  TestServer server;
  const auto missing = raw_exchange(server.port(), "GET /api/users/ HTTP/1.1\r\n\r\n");
  auto parsed = parse_response(missing);
  ASSERT_TRUE(parsed) << missing;
  EXPECT_EQ(parsed->result_int(), 400);
  EXPECT_EQ(parsed->body(), kInvalidHost);
  const auto doubled = raw_exchange(server.port(), "GET /api/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  parsed = parse_response(doubled);
  ASSERT_TRUE(parsed) << doubled;
  EXPECT_EQ(parsed->result_int(), 400);
  // HTTP/1.0 had no Host: still served.
  const auto old = raw_exchange(server.port(), "GET /api/users/ HTTP/1.0\r\n\r\n");
  parsed = parse_response(old);
  ASSERT_TRUE(parsed) << old;
  EXPECT_EQ(parsed->result_int(), 200);
}

TEST(Hosts, AnAllowedHostsEntryThatCanNeverMatchStopsTheStart) {
  const auto result = run_binary({"serve"}, {{"ALLOWED_HOSTS", "api.example.com:8000"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("ALLOWED_HOSTS"), std::string::npos) << result.err;
}

TEST(Cors, ByDefaultNoCorsHeadersAndPreflightsAreOrdinaryOptions) {
  TestServer server;
  const auto response = call(server, "GET", "/api/users/", {{"Origin", "https://app.example"}});
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.count(bhttp::field::access_control_allow_origin), 0U);
  const auto options = call(server, "OPTIONS", "/api/users/",
                            {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(options.result_int(), 200);
  EXPECT_NE(options.body().find("User List"), std::string::npos) << "DRF's metadata, as today";
}

TEST(Cors, AnAllowedOriginsPreflightIsAnsweredWithoutCredentials) {
  TestServer server(with_env({{"CORS_ALLOWED_ORIGINS", "https://app.example"}}));
  const auto preflight = call(server, "OPTIONS", "/api/users/1/",
                              {{"Origin", "https://app.example"},
                               {"Access-Control-Request-Method", "PATCH"},
                               {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_LT(preflight.result_int(), 300);
  EXPECT_EQ(preflight[bhttp::field::access_control_allow_origin], "https://app.example");
  EXPECT_NE(std::string(preflight[bhttp::field::access_control_allow_methods]).find("PATCH"), std::string::npos);
  EXPECT_NE(std::string(preflight[bhttp::field::access_control_allow_headers]).find("authorization"),
            std::string::npos);
  EXPECT_NE(std::string(preflight[bhttp::field::vary]).find("Origin"), std::string::npos);

  const auto actual = call(server, "GET", "/api/users/", {{"Origin", "https://app.example"}});
  EXPECT_EQ(actual[bhttp::field::access_control_allow_origin], "https://app.example");
  EXPECT_NE(std::string(actual[bhttp::field::vary]).find("Origin"), std::string::npos);

  const auto other = call(server, "OPTIONS", "/api/users/",
                          {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(other.count(bhttp::field::access_control_allow_origin), 0U);
  const auto other_get = call(server, "GET", "/api/users/", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other_get.count(bhttp::field::access_control_allow_origin), 0U);
}

TEST(Cors, AWildcardWithAuthenticationStopsTheStart) {
  const auto dir = make_temp_dir();
  std::ofstream(dir / "tokens") << "a users:read " << sha256_hex("x") << "\n";
  const auto result = run_binary(
      {"serve"},
      {{"AUTH_MODE", "token"}, {"API_TOKENS_FILE", (dir / "tokens").string()}, {"CORS_ALLOWED_ORIGINS", "*"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("CORS_ALLOWED_ORIGINS"), std::string::npos) << result.err;
  std::filesystem::remove_all(dir);
}

class AuthenticatedServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    std::ofstream(dir_ / "tokens") << "writer users:read,users:write " << sha256_hex(kToken) << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::map<std::string, std::string> env(std::map<std::string, std::string> more = {}) {
    more["AUTH_MODE"] = "token";
    more["API_TOKENS_FILE"] = (dir_ / "tokens").string();
    return more;
  }
  static constexpr std::string_view kToken = "writer-token-5d41402abc4b2a76b9719d911017c592";
  std::filesystem::path dir_;
};

TEST_F(AuthenticatedServer, ACrossSiteFormWriteGets403EvenWithCredentials) {
  TestServer server(with_env(env()));
  const std::string authorization = fmt::format("Token {}", kToken);
  const auto from_evil = call(server, "POST", "/api/users/",
                              {{"Authorization", authorization},
                               {"Origin", "https://evil.example"},
                               {"Content-Type", "application/x-www-form-urlencoded"}},
                              "dni=1&name=x");
  EXPECT_EQ(from_evil.result_int(), 403);
  EXPECT_EQ(
      from_evil.body(),
      R"({"detail":"CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins."})");
  const auto fetch_site = call(server, "POST", "/api/users/",
                               {{"Authorization", authorization},
                                {"Sec-Fetch-Site", "cross-site"},
                                {"Content-Type", "multipart/form-data; boundary=x"}},
                               "--x--");
  EXPECT_EQ(fetch_site.result_int(), 403);
  // The same form from the server's own pages, and JSON from anywhere (a
  // browser must preflight it), are served.
  const auto same_origin = call(server, "POST", "/api/users/",
                                {{"Authorization", authorization},
                                 {"Origin", fmt::format("http://127.0.0.1:{}", server.port())},
                                 {"Content-Type", "application/x-www-form-urlencoded"}},
                                "dni=2&name=y");
  EXPECT_EQ(same_origin.result_int(), 201) << same_origin.body();
  const auto json =
      call(server, "POST", "/api/users/",
           {{"Authorization", authorization}, {"Origin", "https://evil.example"}, {"Content-Type", "application/json"}},
           R"({"dni":"3","name":"z"})");
  EXPECT_EQ(json.result_int(), 201) << json.body();
}

TEST(Throttle, AnonymousClientsGetDrfs429PastTheirRate) {
  TestServer server(with_env({{"THROTTLE_ANON_RATE", "3/minute"}}));
  HttpClient client(server.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.get("/api/users/").result_int(), 200) << i;
  const auto refused = client.get("/api/users/");
  EXPECT_EQ(refused.result_int(), 429);
  const std::regex message(R"(\{"detail":"Request was throttled\. Expected available in (\d+) seconds?\."\})");
  std::smatch wait;
  const std::string body = refused.body();
  ASSERT_TRUE(std::regex_match(body, wait, message)) << body;
  EXPECT_EQ(std::string(refused[bhttp::field::retry_after]), wait[1].str());
  EXPECT_GE(std::stoi(wait[1].str()), 1);
  EXPECT_LE(std::stoi(wait[1].str()), 20);
  // Probes and metrics are never throttled.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client.get("/healthz").result_int(), 200);
    EXPECT_EQ(client.get("/metrics").result_int(), 200);
  }
}

TEST(Throttle, OneSecondIsSaidInTheSingular) {
  TestServer server(with_env({{"THROTTLE_ANON_RATE", "1/s"}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/").result_int(), 200);
  const auto refused = client.get("/api/");
  ASSERT_EQ(refused.result_int(), 429);
  EXPECT_EQ(refused.body(), R"({"detail":"Request was throttled. Expected available in 1 second."})");
  EXPECT_EQ(refused[bhttp::field::retry_after], "1");
}

TEST(Throttle, ABadRateStopsTheStart) {
  const auto result = run_binary({"serve"}, {{"THROTTLE_RATE", "10/fortnight"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("THROTTLE_RATE"), std::string::npos) << result.err;
}

TEST_F(AuthenticatedServer, APrincipalIsThrottledByNameWhateverItsAddress) {
  TestServer server(with_env(env({{"THROTTLE_RATE", "2/hour"}})));
  const Headers authorized{{"Authorization", fmt::format("Bearer {}", kToken)}};
  EXPECT_EQ(call(server, "GET", "/api/users/", authorized).result_int(), 200);
  EXPECT_EQ(call(server, "GET", "/api/users/", authorized).result_int(), 200);
  const auto refused = call(server, "GET", "/api/users/", authorized);
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_GT(std::stoi(std::string(refused[bhttp::field::retry_after])), 60);
}

TEST(TrustedProxies, XForwardedForCountsOnlyFromATrustedPeer) {
  {
    TestServer server(with_env({{"THROTTLE_ANON_RATE", "1/hour"}}));
    // Not trusted: a client cannot pick a new address per request.
    EXPECT_EQ(call(server, "GET", "/api/", {{"X-Forwarded-For", "198.51.100.1"}}).result_int(), 200);
    EXPECT_EQ(call(server, "GET", "/api/", {{"X-Forwarded-For", "198.51.100.2"}}).result_int(), 429);
  }
  TestServer server(with_env({{"THROTTLE_ANON_RATE", "1/hour"}, {"TRUSTED_PROXIES", "127.0.0.0/8"}}));
  EXPECT_EQ(call(server, "GET", "/api/", {{"X-Forwarded-For", "198.51.100.1"}}).result_int(), 200);
  EXPECT_EQ(call(server, "GET", "/api/", {{"X-Forwarded-For", "198.51.100.2"}}).result_int(), 200);
  EXPECT_EQ(call(server, "GET", "/api/", {{"X-Forwarded-For", "203.0.113.9, 198.51.100.1"}}).result_int(), 429)
      << "the right-most untrusted hop is the client";
  std::this_thread::sleep_for(100ms);
  const auto lines = access_lines(server);
  ASSERT_GE(lines.size(), 3U);
  EXPECT_EQ(lines[0].at("client").as_string(), "198.51.100.1");
  EXPECT_EQ(lines[1].at("client").as_string(), "198.51.100.2");
  EXPECT_EQ(lines[0].at("peer").as_string().subview().substr(0, 10), "127.0.0.1:");
}

TEST(Defaults, TheAccessLogNamesTheClientAndNoPrincipal) {
  TestServer server;
  call(server, "GET", "/api/users/", {});
  std::this_thread::sleep_for(100ms);
  const auto lines = access_lines(server);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].at("client").as_string(), "127.0.0.1");
  EXPECT_FALSE(lines[0].contains("principal"));
}

TEST(Defaults, AnonymousWritesAreAuditedAsAnonymous) {
  TestServer server;
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"55555555K","name":"Ana"})").result_int(), 201);
  std::this_thread::sleep_for(100ms);
  const auto out = server.stdout_text();
  const std::regex audit(
      R"(\{[^\n]*"msg":"audit","action":"create","user_id":1,"dni":"55555555K","principal":"anonymous")");
  EXPECT_TRUE(std::regex_search(out, audit)) << out;
}

}  // namespace
}  // namespace users::testing
