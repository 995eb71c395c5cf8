// AUTH_MODE=token on the real binary: DRF's TokenAuthentication answers, the
// scopes per method, what stays open, rotation by SIGHUP, `token new`, and
// that no token reaches a log or an error body.
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

using namespace std::chrono_literals;

constexpr std::string_view kNotProvided = R"({"detail":"Authentication credentials were not provided."})";
constexpr std::string_view kInvalidToken = R"({"detail":"Invalid token."})";
constexpr std::string_view kNoPermission = R"({"detail":"You do not have permission to perform this action."})";

// The lowercase hex SHA-256 the tokens file holds.
std::string sha256_hex(std::string_view text) {
  const auto digest = auth::sha256(text);
  return auth::to_hex(digest.data(), digest.size());
}

// Tokens long and random-looking enough to be found in any log they leak to.
const std::string kReaderToken = "reader-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b";
const std::string kWriterToken = "writer-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
const std::string kAdminToken = "admin-1122334455667788990011223344556677";

std::filesystem::path write_tokens_file(const std::filesystem::path& dir, const std::string& contents) {
  const auto path = dir / "tokens";
  std::ofstream(path) << contents;
  return path;
}

std::string standard_tokens() {
  return fmt::format(
      "# name scopes sha256\n"
      "reader users:read {}\n"
      "\n"
      "writer users:write {}\n"
      "admin users:read,users:write {}\n",
      sha256_hex(kReaderToken), sha256_hex(kWriterToken), sha256_hex(kAdminToken));
}

class TokenMode : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    tokens_ = write_tokens_file(dir_, standard_tokens());
    server_ = std::make_unique<TestServer>(with_env({{"AUTH_MODE", "token"}, {"API_TOKENS_FILE", tokens_.string()}}));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse call(std::string_view method, std::string_view target, const std::string& authorization,
                    std::string_view body = {}) {
    HttpClient client(server_->port());
    Headers headers;
    if (!authorization.empty()) headers["Authorization"] = authorization;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return client.request(method, target, body, headers);
  }

  std::filesystem::path dir_;
  std::filesystem::path tokens_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(TokenMode, NoCredentialsGetDrfsNotProvidedWithATokenChallenge) {
  for (const auto* target : {"/api/", "/api/users/", "/api/users/1/"}) {
    const auto response = call("GET", target, "");
    EXPECT_EQ(response.result_int(), 401) << target;
    EXPECT_EQ(response.body(), kNotProvided) << target;
    EXPECT_EQ(response[boost::beast::http::field::www_authenticate], "Token") << target;
  }
  EXPECT_EQ(call("POST", "/api/users/", "", R"({"dni":"1","name":"a"})").result_int(), 401);
  EXPECT_EQ(call("OPTIONS", "/api/users/", "").result_int(), 401);
}

TEST_F(TokenMode, AnUnknownSchemeCountsAsNoCredentials) {
  const auto response = call("GET", "/api/users/", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(response.body(), kNotProvided);
}

TEST_F(TokenMode, AnUnknownTokenIsInvalid) {
  for (const auto* scheme : {"Token", "Bearer"}) {
    const auto response = call("GET", "/api/users/", fmt::format("{} not-a-known-token", scheme));
    EXPECT_EQ(response.result_int(), 401) << scheme;
    EXPECT_EQ(response.body(), kInvalidToken) << scheme;
    EXPECT_EQ(response[boost::beast::http::field::www_authenticate], "Token");
  }
}

TEST_F(TokenMode, BothSchemesAuthenticate) {
  EXPECT_EQ(call("GET", "/api/users/", "Token " + kReaderToken).result_int(), 200);
  EXPECT_EQ(call("GET", "/api/users/", "Bearer " + kReaderToken).result_int(), 200);
  EXPECT_EQ(call("GET", "/api/users/", "token " + kReaderToken).result_int(), 200);
}

TEST_F(TokenMode, ReadScopeReadsButCannotWrite) {
  const auto reader = "Token " + kReaderToken;
  EXPECT_EQ(call("GET", "/api/", reader).result_int(), 200);
  EXPECT_EQ(call("HEAD", "/api/users/", reader).result_int(), 200);
  EXPECT_EQ(call("OPTIONS", "/api/users/", reader).result_int(), 200);
  for (const auto* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    const auto target = std::string_view(method) == "POST" ? "/api/users/" : "/api/users/1/";
    const auto response = call(method, target, reader, R"({"dni":"1","name":"a"})");
    EXPECT_EQ(response.result_int(), 403) << method;
    EXPECT_EQ(response.body(), kNoPermission) << method;
  }
}

TEST_F(TokenMode, WriteScopeWritesButCannotRead) {
  const auto writer = "Token " + kWriterToken;
  const auto created = call("POST", "/api/users/", writer, R"({"dni":"12345678A","name":"Ana"})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  const auto id = boost::json::parse(created.body()).at("id").as_int64();
  const auto item = fmt::format("/api/users/{}/", id);
  EXPECT_EQ(call("GET", item, writer).result_int(), 403);
  EXPECT_EQ(call("PATCH", item, writer, R"({"name":"Bea"})").result_int(), 200);
  EXPECT_EQ(call("GET", item, "Token " + kAdminToken).body(),
            fmt::format(R"({{"id":{},"dni":"12345678A","name":"Bea"}})", id));
  EXPECT_EQ(call("DELETE", item, writer).result_int(), 204);
}

TEST_F(TokenMode, ProbesMetricsSchemaAndDocsStayOpen) {
  for (const auto* target : {"/healthz", "/readyz", "/metrics", "/api/schema/", "/api/docs/"}) {
    EXPECT_EQ(call("GET", target, "").result_int(), 200) << target;
  }
}

TEST_F(TokenMode, NoTokenReachesTheLogOrAnErrorBody) {
  const std::string leaked = "Token " + kWriterToken;
  call("GET", "/api/users/", leaked);
  call("POST", "/api/users/", leaked, R"({"dni":"87654321B","name":"Eva"})");
  const auto invalid = call("GET", "/api/users/", "Bearer secret-guess-4242424242");
  EXPECT_EQ(invalid.body().find("secret-guess"), std::string::npos);
  std::this_thread::sleep_for(100ms);
  server_->stop();
  const auto out = server_->stdout_text() + server_->stderr_text();
  EXPECT_NE(out.find(R"("msg":"audit")"), std::string::npos) << out;
  for (const auto& secret : {kReaderToken, kWriterToken, kAdminToken, std::string("secret-guess-4242424242")}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(out.find(sha256_hex(kWriterToken)), std::string::npos) << "not even the hash";
}

TEST_F(TokenMode, EveryWriteLeavesAnAuditLineNamingItsPrincipal) {
  const auto writer = "Token " + kWriterToken;
  const auto created = call("POST", "/api/users/", writer, R"({"dni":"11111111H","name":"Ana"})");
  ASSERT_EQ(created.result_int(), 201);
  const auto id = boost::json::parse(created.body()).at("id").as_int64();
  const auto item = fmt::format("/api/users/{}/", id);
  ASSERT_EQ(call("PUT", item, writer, R"({"dni":"11111111H","name":"Bea"})").result_int(), 200);
  ASSERT_EQ(call("PATCH", item, writer, R"({"name":"Cris"})").result_int(), 200);
  ASSERT_EQ(call("DELETE", item, writer).result_int(), 204);
  // A refused write leaves none.
  ASSERT_EQ(call("DELETE", item, writer).result_int(), 404);
  std::this_thread::sleep_for(100ms);
  server_->stop();
  std::vector<boost::json::object> audits;
  std::istringstream lines(server_->stdout_text());
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("msg":"audit")") == std::string::npos) continue;
    audits.push_back(boost::json::parse(line).as_object());
  }
  ASSERT_EQ(audits.size(), 4U) << server_->stdout_text();
  const char* actions[] = {"create", "update", "partial_update", "delete"};
  for (std::size_t i = 0; i < audits.size(); ++i) {
    EXPECT_EQ(audits[i].at("action").as_string(), actions[i]);
    EXPECT_EQ(audits[i].at("user_id").as_int64(), id);
    EXPECT_EQ(audits[i].at("dni").as_string(), "11111111H");
    EXPECT_FALSE(audits[i].contains("name")) << "a name is personal data the trail does not need";
    EXPECT_EQ(audits[i].at("principal").as_string(), "writer");
    EXPECT_EQ(audits[i].at("client").as_string(), "127.0.0.1");
    EXPECT_FALSE(audits[i].at("request_id").as_string().empty());
  }
}

TEST_F(TokenMode, SighupRotatesTokensWithoutARestart) {
  const std::string fresh = "fresh-99887766554433221100aabbccddeeff";
  EXPECT_EQ(call("GET", "/api/users/", "Token " + fresh).result_int(), 401);
  std::ofstream(tokens_) << fmt::format("fresh users:read {}\n", sha256_hex(fresh));
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  unsigned status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    std::this_thread::sleep_for(10ms);
    status = call("GET", "/api/users/", "Token " + fresh).result_int();
  }
  EXPECT_EQ(status, 200U);
  EXPECT_EQ(call("GET", "/api/users/", "Token " + kReaderToken).result_int(), 401) << "the old token is gone";
  EXPECT_TRUE(server_->running());
}

TEST_F(TokenMode, ABrokenFileOnSighupKeepsTheOldTokensAndSaysWhy) {
  std::ofstream(tokens_) << "reader users:read not-hex\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  bool logged = false;
  for (int i = 0; i < 200 && !logged; ++i) {
    std::this_thread::sleep_for(10ms);
    logged = server_->stdout_text().find(tokens_.string() + ":1:") != std::string::npos;
  }
  EXPECT_TRUE(logged) << server_->stdout_text();
  EXPECT_EQ(call("GET", "/api/users/", "Token " + kReaderToken).result_int(), 200);
}

TEST(TokenModeStart, AMalformedTokensFileStopsTheStartNamingFileAndLine) {
  const auto dir = make_temp_dir();
  const auto tokens = write_tokens_file(dir, "# ok\nreader users:read\n");
  const auto result = run_binary({"serve"}, {{"AUTH_MODE", "token"}, {"API_TOKENS_FILE", tokens.string()}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find(tokens.string() + ":2:"), std::string::npos) << result.err;
  std::filesystem::remove_all(dir);
}

TEST(TokenModeStart, TokenModeWithoutAFileStopsTheStart) {
  const auto result = run_binary({"serve"}, {{"AUTH_MODE", "token"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("API_TOKENS_FILE"), std::string::npos) << result.err;
}

TEST(TokenCommand, TokenNewPrintsARandomTokenAndTheLineThatAcceptsIt) {
  const auto first = run_binary({"token", "new", "ci-bot", "users:read,users:write"});
  const auto second = run_binary({"token", "new", "ci-bot", "users:read,users:write"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The token on its own line, then the line for the file.
  const std::regex line_re(R"(ci-bot users:read,users:write ([0-9a-f]{64}))");
  std::smatch line;
  ASSERT_TRUE(std::regex_search(first.out, line, line_re)) << first.out;
  std::string token;
  std::istringstream lines(first.out);
  for (std::string text; std::getline(lines, text);) {
    if (!text.empty() && text.find(' ') == std::string::npos && text.find('#') == std::string::npos) token = text;
  }
  ASSERT_GE(token.size(), 43U) << first.out;  // 32 bytes, base64url
  EXPECT_EQ(sha256_hex(token), line[1].str());
  EXPECT_NE(first.out, second.out);
  EXPECT_EQ(run_binary({"token", "new", "x", "users:admin"}).exit_code, 2);
}

}  // namespace
}  // namespace users::testing
