// Probes, request ids, access logs, the health check command, the schema,
// docs and browsable pages: what operators and people see.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <thread>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

// Waits until the server's stdout has a line matching `pattern`.
bool wait_for_log(const TestServer& server, const std::string& pattern) {
  const std::regex wanted(pattern);
  for (int i = 0; i < 300; ++i) {
    if (std::regex_search(server.stdout_text(), wanted)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(Operations, HealthzAnswersWithoutTheDatabase) {
  TestServer server;
  HttpClient client(server.port());
  const auto response = client.get("/healthz");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"status":"ok"})");
  EXPECT_EQ(client.request("POST", "/healthz").result_int(), 405);
}

TEST(Operations, ReadyzTurnsUnavailableAsSoonAsShutdownBegins) {
  TestServer server(with_env({{"SHUTDOWN_DELAY", "1.5"}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/readyz").result_int(), 200);
  ::kill(server.pid(), SIGTERM);
  ASSERT_TRUE(wait_for_log(server, R"("msg":"shutting down")"));
  const auto during = client.get("/readyz");
  EXPECT_EQ(during.result_int(), 503);
  EXPECT_EQ(during.body(), R"({"status":"unavailable","reason":"shutting down"})");
  // The API itself keeps serving during the delay.
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
  EXPECT_EQ(server.stop(SIGTERM, 10s), 0);
}

TEST(Operations, EchoesASaneRequestIdAndReplacesOthers) {
  TestServer server;
  HttpClient client(server.port());
  auto kept = client.request("GET", "/api/", {}, {{"X-Request-ID", "trace-42.abc"}});
  EXPECT_EQ(kept["X-Request-ID"], "trace-42.abc");
  auto generated = client.get("/api/");
  EXPECT_TRUE(std::regex_match(std::string(generated["X-Request-ID"]), std::regex("[0-9a-f]{16}")));
  auto refused = client.request("GET", "/api/", {}, {{"X-Request-ID", std::string(200, 'a')}});
  EXPECT_TRUE(std::regex_match(std::string(refused["X-Request-ID"]), std::regex("[0-9a-f]{16}")));
  auto spaced = client.request("GET", "/api/", {}, {{"X-Request-ID", "a b"}});
  EXPECT_NE(spaced["X-Request-ID"], "a b");
}

TEST(Operations, AccessLogIsOneJsonObjectPerRequestWithTheRouteTemplate) {
  TestServer server(with_env({{"LOG_FORMAT", "json"}}));
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"Ana"})").result_int(), 201);
  ASSERT_EQ(client.request("GET", "/api/users/1/", {}, {{"X-Request-ID", "abc123"}}).result_int(), 200);
  ASSERT_EQ(client.get("/healthz").result_int(), 200);
  ASSERT_TRUE(wait_for_log(server, R"("request_id":"abc123")"));
  server.stop();

  bool found = false;
  std::istringstream lines(server.stdout_text());
  for (std::string line; std::getline(lines, line);) {
    const auto value = boost::json::parse(line);  // every line is JSON
    const auto& entry = value.as_object();
    ASSERT_TRUE(entry.contains("time") && entry.contains("level") && entry.contains("msg")) << line;
    if (entry.at("msg") != "request") continue;
    EXPECT_NE(entry.at("route"), "/healthz") << "successful probes are not logged at info";
    if (entry.at("request_id") != "abc123") continue;
    found = true;
    EXPECT_EQ(entry.at("method"), "GET");
    EXPECT_EQ(entry.at("route"), "/api/users/{id}/");
    EXPECT_EQ(entry.at("path"), "/api/users/1/");
    EXPECT_EQ(entry.at("status").to_number<int>(), 200);
    EXPECT_EQ(entry.at("bytes").to_number<int>(), 31);  // {"id":1,"dni":"1","name":"Ana"}
    EXPECT_GT(entry.at("duration_us").to_number<std::int64_t>(), 0);
    EXPECT_TRUE(entry.at("peer").as_string().starts_with("127.0.0.1:"));
  }
  EXPECT_TRUE(found);
}

TEST(Operations, TextLogsAreReadable) {
  ServerOptions options = with_env({{"LOG_FORMAT", "text"}});
  options.wait_until_listening = false;  // the harness reads the JSON start-up line
  TestServer server(options);
  ASSERT_TRUE(wait_for_log(server, R"(INFO  listening host=127.0.0.1 port=\d+)"));
  std::smatch port;
  const std::string log = server.stdout_text();
  ASSERT_TRUE(std::regex_search(log, port, std::regex(R"(listening host=\S+ port=(\d+))")));
  HttpClient client(static_cast<std::uint16_t>(std::stoi(port[1])));
  ASSERT_EQ(client.get("/api/users/").result_int(), 200);
  ASSERT_TRUE(wait_for_log(server, R"(INFO  GET /api/users/ 200 2B \d+us route=/api/users/)"));
}

TEST(Operations, StartupLineShowsTheEffectiveConfigurationWithoutSecrets) {
  TestServer server;
  const auto text = server.stdout_text();
  EXPECT_NE(text.find(R"("msg":"starting")"), std::string::npos);
  EXPECT_NE(text.find(R"("max_body_bytes":65536)"), std::string::npos);
  EXPECT_NE(text.find(R"("database_url":"sqlite:///)"), std::string::npos);
}

TEST(Operations, HealthcheckCommandReportsReadiness) {
  TestServer server;
  const auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/readyz";
  EXPECT_EQ(run_binary({"healthcheck", "--url", url}).exit_code, 0);
  EXPECT_EQ(run_binary({"healthcheck"}, {{"PORT", std::to_string(server.port())}, {"OPS_PORT", "0"}}).exit_code, 0);
  server.stop();
  const auto down = run_binary({"healthcheck", "--url", url});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_FALSE(down.err.empty());
}

TEST(Operations, MetricsUseRouteTemplates) {
  TestServer server;
  HttpClient client(server.port());
  ASSERT_EQ(client.get("/api/users/12345/").result_int(), 404);
  const auto metrics = client.get("/metrics");
  EXPECT_EQ(metrics.result_int(), 200);
  EXPECT_TRUE(std::string(metrics[bhttp::field::content_type]).starts_with("text/plain; version=0.0.4"));
  EXPECT_NE(
      metrics.body().find(R"(users_api_http_requests_total{route="/api/users/{id}/",method="GET",status="4xx"} 1)"),
      std::string::npos)
      << metrics.body();
  EXPECT_EQ(metrics.body().find("12345"), std::string::npos);
}

// The exchange is recorded before the response's last byte leaves, so a
// scrape made on another connection right after reading a response sees it.
TEST(Operations, AResponseReadIsAlreadyCountedByTheNextScrape) {
  TestServer server;
  HttpClient client(server.port());
  HttpClient scraper(server.port());
  for (int i = 1; i <= 30; ++i) {
    ASSERT_EQ(client.get("/api/users/").result_int(), 200);
    const auto metrics = scraper.get("/metrics");
    const std::string series =
        R"(users_api_http_requests_total{route="/api/users/",method="GET",status="2xx"} )" + std::to_string(i) + "\n";
    ASSERT_NE(metrics.body().find(series), std::string::npos) << "after request " << i << ":\n" << metrics.body();
  }
}

TEST(Operations, SchemaAndDocsAreServedLocally) {
  TestServer server;
  HttpClient client(server.port());
  const auto schema = client.get("/api/schema/");
  EXPECT_EQ(schema.result_int(), 200);
  EXPECT_EQ(boost::json::parse(schema.body()).at("openapi"), "3.1.0");
  const auto docs = client.get("/api/docs/");
  EXPECT_EQ(docs.result_int(), 200);
  EXPECT_NE(docs.body().find("/api/docs/swagger-ui-bundle.js"), std::string::npos);
  EXPECT_EQ(docs.body().find("http"), std::string::npos) << "no link leaves the server";
  const auto bundle = client.get("/api/docs/swagger-ui-bundle.js");
  EXPECT_EQ(bundle.result_int(), 200);
  EXPECT_GT(bundle.body().size(), 100000U);
  EXPECT_EQ(client.get("/api/docs/missing.js").result_int(), 404);
  EXPECT_EQ(client.get("/api/schema").result_int(), 301);
}

TEST(Operations, BrowsersGetHtmlWithEverythingEscaped) {
  TestServer server;
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"x1","name":"<script>alert(1)</script>"})").result_int(), 201);
  const std::string browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  const auto page = client.request("GET", "/api/users/", {}, {{"Accept", browser_accept}});
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_TRUE(std::string(page[bhttp::field::content_type]).starts_with("text/html"));
  EXPECT_EQ(page.body().find("<script>alert"), std::string::npos);
  EXPECT_NE(page.body().find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);

  const auto json = client.get("/api/users/");
  const auto forced = client.request("GET", "/api/users/?format=json", {}, {{"Accept", browser_accept}});
  EXPECT_EQ(forced.body(), json.body());
  EXPECT_EQ(forced[bhttp::field::content_type], "application/json");
  const auto explicit_json = client.request("GET", "/api/users/", {}, {{"Accept", "application/json"}});
  EXPECT_EQ(explicit_json.body(), json.body());
  EXPECT_EQ(client.request("GET", "/api/users/1/?format=api").result_int(), 200);

  const auto invalid =
      client.request("POST", "/api/users/", "dni=&name=" + std::string(31, 'n'),
                     {{"Accept", browser_accept}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(invalid.result_int(), 400);
  EXPECT_NE(invalid.body().find("This field may not be blank."), std::string::npos);
  EXPECT_NE(invalid.body().find("Ensure this field has no more than 30 characters."), std::string::npos);
}

}  // namespace
}  // namespace users::testing
