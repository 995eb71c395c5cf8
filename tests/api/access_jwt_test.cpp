// AUTH_MODE=jwt on the real binary: simplejwt's answers, scopes from `scope`
// and `scp`, the checks a forged or stale token fails, and a JWKS fetched over
// TLS from a server this test runs (its CA named by JWT_JWKS_CA_FILE): /readyz
// waits for it, and a rotated key is picked up without a restart.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <thread>

#include "auth/support.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using auth::testing::TestKey;

constexpr std::string_view kIssuer = "https://issuer.test/realms/users";
constexpr std::string_view kAudience = "users-api";
constexpr std::string_view kNotProvided = R"({"detail":"Authentication credentials were not provided."})";
constexpr std::string_view kNotValid =
    R"({"detail":"Given token not valid for any token type","code":"token_not_valid",)"
    R"("messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]})";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

boost::json::object claims(std::string_view scope, std::int64_t expires_in = 300) {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "ana@example.com"},
          {"iat", now_seconds()},
          {"exp", now_seconds() + expires_in},
          {"scope", scope}};
}

// base64url of {"alg":"none","typ":"JWT"}: an unsigned token's header.
constexpr std::string_view kAlgNoneHeader = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

const TestKey& es256_key() {
  static const TestKey key = auth::testing::make_ec_key("es-1");
  return key;
}

class JwtMode : public ::testing::Test {
 protected:
  void SetUp() override {
    jwks_ = std::make_unique<auth::testing::TempFile>(auth::testing::jwks_of({&es256_key()}));
    server_ = std::make_unique<TestServer>(with_env({{"AUTH_MODE", "jwt"},
                                                     {"JWT_JWKS_FILE", jwks_->path()},
                                                     {"JWT_ISSUER", std::string(kIssuer)},
                                                     {"JWT_AUDIENCE", std::string(kAudience)}}));
  }

  HttpResponse call(std::string_view method, std::string_view target, const std::string& authorization,
                    std::string_view body = {}) {
    HttpClient client(server_->port());
    Headers headers;
    if (!authorization.empty()) headers["Authorization"] = authorization;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return client.request(method, target, body, headers);
  }
  std::string bearer(const boost::json::object& payload, const TestKey& key = es256_key()) {
    return "Bearer " + auth::testing::sign_jwt(key, payload);
  }

  std::unique_ptr<auth::testing::TempFile> jwks_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(JwtMode, NoCredentialsGetNotProvidedWithABearerChallenge) {
  const auto response = call("GET", "/api/users/", "");
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(response.body(), kNotProvided);
  EXPECT_EQ(response[bhttp::field::www_authenticate], R"(Bearer realm="api")");
  // simplejwt reads only Bearer: DRF's Token scheme is no credential here.
  EXPECT_EQ(call("GET", "/api/users/", "Token abc").body(), kNotProvided);
}

TEST_F(JwtMode, AValidTokenReadsAndItsScopesDecideTheRest) {
  const auto reader = bearer(claims("openid users:read"));
  EXPECT_EQ(call("GET", "/api/users/", reader).result_int(), 200);
  EXPECT_EQ(call("GET", "/api/", reader).result_int(), 200);
  const auto refused = call("POST", "/api/users/", reader, R"({"dni":"1","name":"a"})");
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_EQ(refused.body(), R"({"detail":"You do not have permission to perform this action."})");
}

TEST_F(JwtMode, ScopesMayComeAsAnScpArray) {
  auto payload = claims("");
  payload.erase("scope");
  payload["scp"] = boost::json::array{"users:write", "profile"};
  const auto created = call("POST", "/api/users/", bearer(payload), R"({"dni":"22222222J","name":"Eva"})");
  EXPECT_EQ(created.result_int(), 201) << created.body();
  std::this_thread::sleep_for(100ms);
  EXPECT_NE(server_->stdout_text().find(R"("principal":"ana@example.com")"), std::string::npos)
      << server_->stdout_text();
}

TEST_F(JwtMode, EveryTokenThatDoesNotVerifyGetsSimplejwtsAnswer) {
  auto expired = claims("users:read", -120);  // past the 30 s leeway
  auto early = claims("users:read");
  early["nbf"] = now_seconds() + 600;
  auto wrong_issuer = claims("users:read");
  wrong_issuer["iss"] = "https://evil.example/";
  auto wrong_audience = claims("users:read");
  wrong_audience["aud"] = "another-api";
  const auto good = auth::testing::sign_jwt(es256_key(), claims("users:read"));
  const auto dot = good.find('.');
  const auto payload_part = good.substr(dot + 1, good.rfind('.') - dot - 1);
  const TestKey stranger = auth::testing::make_ec_key("es-1");  // same kid, other key
  const std::string header_hs = R"({"alg":"HS256","typ":"JWT","kid":"es-1"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"expired", bearer(expired)},
      {"not yet valid", bearer(early)},
      {"wrong issuer", bearer(wrong_issuer)},
      {"wrong audience", bearer(wrong_audience)},
      {"signed by another key", bearer(claims("users:read"), stranger)},
      {"alg none", fmt::format("Bearer {}.{}.", kAlgNoneHeader, payload_part)},
      {"HS256 keyed with the public key",
       "Bearer " + auth::testing::sign_hs256(header_hs, boost::json::serialize(claims("users:read")),
                                             auth::testing::public_pem(es256_key()))},
      {"signature cut", "Bearer " + good.substr(0, good.size() - 8)},
      {"not a JWT", "Bearer not.a.jwt"},
      {"garbage", "Bearer %%%"},
  };
  for (const auto& [what, authorization] : cases) {
    const auto response = call("GET", "/api/users/", authorization);
    EXPECT_EQ(response.result_int(), 401) << what;
    EXPECT_EQ(response.body(), kNotValid) << what;
    EXPECT_EQ(response[bhttp::field::www_authenticate], R"(Bearer realm="api")") << what;
  }
  std::this_thread::sleep_for(100ms);
  server_->stop();
  const auto out = server_->stdout_text() + server_->stderr_text();
  for (const auto& [what, authorization] : cases) {
    const auto token = authorization.substr(7);
    if (token.size() > 12) {
      EXPECT_EQ(out.find(token), std::string::npos) << what << " leaked into the log";
    }
  }
  EXPECT_EQ(out.find(good), std::string::npos);
}

TEST_F(JwtMode, ProbesSchemaAndDocsStayOpenAndReadyzIsReady) {
  for (const auto* target : {"/healthz", "/readyz", "/metrics", "/api/schema/", "/api/docs/"}) {
    EXPECT_EQ(call("GET", target, "").result_int(), 200) << target;
  }
}

TEST(JwtModeStart, JwtModeNeedsIssuerAudienceAndExactlyOneKeySource) {
  const auto jwks = auth::testing::TempFile(auth::testing::jwks_of({&es256_key()}));
  const std::map<std::string, std::string> good = {{"AUTH_MODE", "jwt"},
                                                   {"JWT_JWKS_FILE", jwks.path()},
                                                   {"JWT_ISSUER", std::string(kIssuer)},
                                                   {"JWT_AUDIENCE", std::string(kAudience)}};
  for (const auto* missing : {"JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_FILE"}) {
    auto env = good;
    env.erase(missing);
    const auto result = run_binary({"serve"}, env);
    EXPECT_EQ(result.exit_code, 2) << missing;
  }
  auto plain = good;
  plain.erase("JWT_JWKS_FILE");
  plain["JWT_JWKS_URL"] = "http://keys.example/jwks.json";
  const auto result = run_binary({"serve"}, plain);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("https"), std::string::npos) << result.err;
}

TEST(JwtModeStart, AJwksUrlsPasswordNeverReachesTheLog) {
  TestServer server(with_env({{"AUTH_MODE", "jwt"},
                              {"JWT_JWKS_URL", "https://keys:s3cret-pw@127.0.0.1:9/jwks.json"},
                              {"JWT_ISSUER", std::string(kIssuer)},
                              {"JWT_AUDIENCE", std::string(kAudience)}}));
  HttpClient client(server.port());
  std::this_thread::sleep_for(200ms);
  const auto ready = client.get("/readyz");
  EXPECT_EQ(ready.result_int(), 503);
  EXPECT_NE(ready.body().find("keys:***@"), std::string::npos) << ready.body();
  EXPECT_EQ(ready.body().find("s3cret-pw"), std::string::npos) << ready.body();
  server.stop();
  const auto out = server.stdout_text() + server.stderr_text();
  EXPECT_NE(out.find("jwt_jwks_url"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cret-pw"), std::string::npos) << out;
}

// The JWKS over real TLS from this test, as an identity provider serves it.
class JwksUrl : public ::testing::Test {
 protected:
  void SetUp() override {
    identity_ = auth::testing::make_tls_identity();
    ca_ = std::make_unique<auth::testing::TempFile>(identity_.ca_pem);
    https_ = std::make_unique<auth::testing::HttpsServer>(identity_);
  }
  std::unique_ptr<TestServer> start() {
    return std::make_unique<TestServer>(with_env({{"AUTH_MODE", "jwt"},
                                                  {"JWT_JWKS_URL", https_->url()},
                                                  {"JWT_JWKS_CA_FILE", ca_->path()},
                                                  {"JWT_ISSUER", std::string(kIssuer)},
                                                  {"JWT_AUDIENCE", std::string(kAudience)}}));
  }
  static unsigned get(const TestServer& server, std::string_view target, const std::string& authorization = {}) {
    HttpClient client(server.port());
    Headers headers;
    if (!authorization.empty()) headers["Authorization"] = authorization;
    return client.request("GET", target, {}, headers).result_int();
  }
  // Polls until `target` answers `status`, for up to `timeout`.
  static bool eventually(const TestServer& server, std::string_view target, unsigned status,
                         const std::string& authorization = {}, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (get(server, target, authorization) == status) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  auth::testing::TlsIdentity identity_;
  std::unique_ptr<auth::testing::TempFile> ca_;
  std::unique_ptr<auth::testing::HttpsServer> https_;
};

TEST_F(JwksUrl, ReadyzIs503AndSaysWhyUntilTheFirstFetchSucceeds) {
  https_->respond(503, "down for maintenance");
  auto server = start();
  HttpClient client(server->port());
  const auto waiting = client.get("/readyz");
  EXPECT_EQ(waiting.result_int(), 503);
  EXPECT_NE(waiting.body().find("JWKS"), std::string::npos) << waiting.body();
  const auto token = "Bearer " + auth::testing::sign_jwt(es256_key(), claims("users:read"));
  EXPECT_EQ(get(*server, "/api/users/", token), 401U);
  https_->respond(200, auth::testing::jwks_of({&es256_key()}));
  EXPECT_TRUE(eventually(*server, "/readyz", 200));
  EXPECT_EQ(get(*server, "/api/users/", token), 200U);
  EXPECT_GE(https_->requests(), 2U);
}

TEST_F(JwksUrl, ARotatedKeyIsFetchedOnItsFirstUnknownKid) {
  https_->respond(200, auth::testing::jwks_of({&es256_key()}));
  auto server = start();
  ASSERT_TRUE(eventually(*server, "/readyz", 200));
  const TestKey next = auth::testing::make_ed25519_key("ed-2");
  https_->respond(200, auth::testing::jwks_of({&es256_key(), &next}));
  const auto token = "Bearer " + auth::testing::sign_jwt(next, claims("users:read"));
  // The first sight of kid ed-2 asks for the keys again, without waiting for them.
  EXPECT_TRUE(eventually(*server, "/api/users/", 200, token));
  EXPECT_EQ(get(*server, "/api/users/", "Bearer " + auth::testing::sign_jwt(es256_key(), claims("users:read"))), 200U);
}

TEST_F(JwksUrl, ACertificateFromAnotherCaIsNeverTrusted) {
  https_->respond(200, auth::testing::jwks_of({&es256_key()}));
  const auto other = auth::testing::make_tls_identity();
  const auth::testing::TempFile other_ca(other.ca_pem);
  TestServer server(with_env({{"AUTH_MODE", "jwt"},
                              {"JWT_JWKS_URL", https_->url()},
                              {"JWT_JWKS_CA_FILE", other_ca.path()},
                              {"JWT_ISSUER", std::string(kIssuer)},
                              {"JWT_AUDIENCE", std::string(kAudience)}}));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(get(server, "/readyz"), 503U);
  EXPECT_EQ(get(server, "/api/users/", "Bearer " + auth::testing::sign_jwt(es256_key(), claims("users:read"))), 401U);
}

}  // namespace
}  // namespace users::testing
