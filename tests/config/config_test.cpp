#include "config/config.hpp"

#include <gtest/gtest.h>

namespace users::config {
namespace {

TEST(ParseDatabaseUrl, SqliteRelativeAndAbsolute) {
  auto relative = parse_database_url("sqlite:///./db.sqlite3");
  ASSERT_TRUE(relative);
  EXPECT_EQ(std::get<SqliteDatabase>(*relative).path, "./db.sqlite3");
  auto absolute = parse_database_url("sqlite:////data/db.sqlite3");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(std::get<SqliteDatabase>(*absolute).path, "/data/db.sqlite3");
  auto encoded = parse_database_url("sqlite:///my%20db.sqlite3");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(std::get<SqliteDatabase>(*encoded).path, "my db.sqlite3");
}

TEST(ParseDatabaseUrl, RefusesWhatItCannotServe) {
  EXPECT_FALSE(parse_database_url("mysql://u@h/db"));
  EXPECT_FALSE(parse_database_url("sqlite://host/db"));
  EXPECT_FALSE(parse_database_url("sqlite:///"));
  EXPECT_FALSE(parse_database_url("not a url"));
}

TEST(RedactDatabaseUrl, HidesThePassword) {
  EXPECT_EQ(redact_database_url("postgres://app:s3cret@db:5432/users"), "postgres://app:***@db:5432/users");
  EXPECT_EQ(redact_database_url("sqlite:///./db.sqlite3"), "sqlite:///./db.sqlite3");
}

TEST(Resolve, DefaultsAndOverrides) {
  auto defaults = resolve(RawSettings{});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->port, 8000);
  EXPECT_EQ(defaults->host, "0.0.0.0");
  EXPECT_EQ(std::get<SqliteDatabase>(defaults->database).path, "./db.sqlite3");
  EXPECT_GE(defaults->threads, 1U);
  EXPECT_EQ(defaults->limits.max_body_bytes, 64U * 1024U);
  EXPECT_EQ(defaults->limits.max_connections_per_client, 256U);
  EXPECT_EQ(defaults->limits.request_buffer_bytes, 32U * 1024U * 1024U);
  EXPECT_EQ(defaults->ops_port, 9000);
  EXPECT_EQ(defaults->ops_max_connections, 64U);
  EXPECT_EQ(defaults->max_list_streams, 4U);

  RawSettings raw;
  raw.port = "0";
  raw.database_name = "/tmp/x.sqlite3";
  raw.idle_timeout = "0.5";
  auto resolved = resolve(raw);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->port, 0);
  EXPECT_EQ(std::get<SqliteDatabase>(resolved->database).path, "/tmp/x.sqlite3");
  EXPECT_EQ(resolved->limits.idle_timeout.count(), 500);
}

TEST(Resolve, EtagsAreOffUnlessTurnedOn) {
  auto defaults = resolve(RawSettings{});
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->etags);
  for (const auto& [value, expected] : {std::pair{"on", true}, std::pair{"off", false}}) {
    RawSettings raw;
    raw.etags = value;
    auto resolved = resolve(raw);
    ASSERT_TRUE(resolved) << value;
    EXPECT_EQ(resolved->etags, expected) << value;
  }
}

TEST(Resolve, NamesTheVariableThatIsWrong) {
  const struct {
    std::string RawSettings::*field;
    const char* value;
    const char* variable;
  } cases[] = {
      {&RawSettings::port, "abc", "PORT"},
      {&RawSettings::port, "65536", "PORT"},
      {&RawSettings::threads, "0", "THREADS"},
      {&RawSettings::log_level, "loud", "LOG_LEVEL"},
      {&RawSettings::database_url, "x://", "DATABASE_URL"},
      {&RawSettings::max_body_bytes, "-1", "MAX_BODY_BYTES"},
      {&RawSettings::request_timeout, "0", "REQUEST_TIMEOUT"},
      {&RawSettings::sqlite_synchronous, "off", "SQLITE_SYNCHRONOUS"},
      {&RawSettings::etags, "yes", "ETAGS"},
      {&RawSettings::etags, "ON", "ETAGS"},
      {&RawSettings::ops_port, "70000", "OPS_PORT"},
      {&RawSettings::ops_port, "8000", "OPS_PORT"},  // PORT's default: one listener cannot be both
      {&RawSettings::ops_max_connections, "0", "OPS_MAX_CONNECTIONS"},
      {&RawSettings::max_connections_per_client, "-1", "MAX_CONNECTIONS_PER_CLIENT"},
      {&RawSettings::max_list_streams, "many", "MAX_LIST_STREAMS"},
      {&RawSettings::request_buffer_bytes, "65536", "REQUEST_BUFFER_BYTES"},  // cannot hold one 64 KiB body
  };
  for (const auto& c : cases) {
    RawSettings raw;
    raw.*c.field = c.value;
    auto resolved = resolve(raw);
    ASSERT_FALSE(resolved) << c.variable;
    EXPECT_EQ(resolved.error().variable, c.variable);
  }
}

TEST(Resolve, TheNewLimitsAreRead) {
  RawSettings raw;
  raw.ops_port = "0";
  raw.max_connections_per_client = "0";
  raw.max_list_streams = "16";
  raw.max_body_bytes = "1048576";
  raw.request_buffer_bytes = "8388608";
  auto resolved = resolve(raw);
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(resolved->ops_port, 0);
  EXPECT_EQ(resolved->limits.max_connections_per_client, 0U);
  EXPECT_EQ(resolved->max_list_streams, 16U);
  EXPECT_EQ(resolved->limits.request_buffer_bytes, 8U * 1024U * 1024U);
  raw.request_buffer_bytes = "1048576";  // a 1 MiB body and nothing to read it through
  EXPECT_FALSE(resolve(raw));
}

TEST(ResolveDniPattern, OffByDefaultAndWhenEmpty) {
  auto defaults = resolve(RawSettings{});
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->dni_pattern.empty());
  RawSettings raw;
  raw.dni_pattern = "";
  auto empty = resolve(raw);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->dni_pattern.empty());
}

TEST(ResolveDniPattern, APatternIsKeptAsWritten) {
  RawSettings raw;
  raw.dni_pattern = "[0-9]{8}[A-Z]";
  auto resolved = resolve(raw);
  ASSERT_TRUE(resolved) << resolved.error().to_string();
  EXPECT_EQ(resolved->dni_pattern, "[0-9]{8}[A-Z]");
}

TEST(ResolveDniPattern, APatternThatDoesNotCompileIsRefusedByName) {
  for (const char* bad : {"(", "[0-9", "a{3,1}", "[0-9]{8}\\", "\xFF\xFE"}) {
    SCOPED_TRACE(bad);
    RawSettings raw;
    raw.dni_pattern = bad;
    auto resolved = resolve(raw);
    ASSERT_FALSE(resolved);
    EXPECT_EQ(resolved.error().variable, "DNI_PATTERN");
    // (Built with append: operator+ on a literal trips GCC 12's -Wrestrict at -O3.)
    std::string quoted(1, '"');
    quoted.append(bad).append("\" does not compile: ");
    EXPECT_TRUE(resolved.error().message.starts_with(quoted)) << resolved.error().message;
  }
  RawSettings raw;
  raw.dni_pattern = "(";
  EXPECT_EQ(resolve(raw).error().to_string(),
            "DNI_PATTERN: \"(\" does not compile: Unmatched marking parenthesis ( or \\(. (at character 1)");
}

TEST(ParseDotenv, ReadsTheCommonForms) {
  auto entries =
      parse_dotenv("# comment\nPORT=1\nexport HOST = 127.0.0.1 \nA=\"quoted # not comment\"\nB='x'\nC=v # c\n\n");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 5U);
  EXPECT_EQ((*entries)[0].key, "PORT");
  EXPECT_EQ((*entries)[1].value, "127.0.0.1");
  EXPECT_EQ((*entries)[2].value, "quoted # not comment");
  EXPECT_EQ((*entries)[3].value, "x");
  EXPECT_EQ((*entries)[4].value, "v");
  EXPECT_FALSE(parse_dotenv("JUSTAWORD\n"));
}

}  // namespace
}  // namespace users::config

namespace users::config {
namespace {

RawSettings jwt_settings() {
  RawSettings raw;
  raw.auth_mode = "jwt";
  raw.jwt_jwks_url = "https://idp.example/.well-known/jwks.json";
  raw.jwt_issuer = "https://idp.example/";
  raw.jwt_audience = "users-api";
  return raw;
}

TEST(ResolveAccess, TheDefaultIsTheOpenApi) {
  auto config = resolve(RawSettings{});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->access.auth_mode, AuthMode::kNone);
  EXPECT_EQ(config->access.allowed_hosts, "*");
  EXPECT_TRUE(config->access.throttle_rate.empty());
  EXPECT_TRUE(config->access.cors_allowed_origins.empty());
  EXPECT_EQ(config->access.jwt_jwks_refresh, std::chrono::seconds(300));
  EXPECT_EQ(config->access.jwt_leeway, std::chrono::seconds(30));
}

TEST(ResolveAccess, AuthModeIsOneOfThree) {
  RawSettings raw;
  raw.auth_mode = "basic";
  auto refused = resolve(raw);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().variable, "AUTH_MODE");
  raw.auth_mode = "token";
  auto no_file = resolve(raw);
  ASSERT_FALSE(no_file);
  EXPECT_EQ(no_file.error().variable, "API_TOKENS_FILE");
  raw.api_tokens_file = "/run/secrets/tokens";
  auto token = resolve(raw);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->access.auth_mode, AuthMode::kToken);
  EXPECT_EQ(auth_mode_name(token->access.auth_mode), "token");
}

TEST(ResolveAccess, JwtNeedsIssuerAudienceAndOneHttpsKeySource) {
  auto good = resolve(jwt_settings());
  ASSERT_TRUE(good);
  EXPECT_EQ(good->access.auth_mode, AuthMode::kJwt);
  struct Case {
    void (*change)(RawSettings&);
    std::string_view variable;
  };
  const Case cases[] = {
      {[](RawSettings& raw) { raw.jwt_issuer.clear(); }, "JWT_ISSUER"},
      {[](RawSettings& raw) { raw.jwt_audience.clear(); }, "JWT_AUDIENCE"},
      {[](RawSettings& raw) { raw.jwt_jwks_url = "http://idp.example/jwks.json"; }, "JWT_JWKS_URL"},
      {[](RawSettings& raw) { raw.jwt_jwks_url.clear(); }, "JWT_JWKS_URL"},
      {[](RawSettings& raw) { raw.jwt_jwks_file = "/etc/jwks.json"; }, "JWT_JWKS_URL"},
      {[](RawSettings& raw) { raw.jwt_leeway = "-1"; }, "JWT_LEEWAY"},
      {[](RawSettings& raw) { raw.jwt_jwks_refresh = "-3"; }, "JWT_JWKS_REFRESH"},
  };
  for (const auto& [change, variable] : cases) {
    auto raw = jwt_settings();
    change(raw);
    auto refused = resolve(raw);
    ASSERT_FALSE(refused) << variable;
    EXPECT_EQ(refused.error().variable, variable);
  }
  auto raw = jwt_settings();
  raw.jwt_leeway = "0";
  raw.jwt_jwks_refresh = "60";
  auto tuned = resolve(raw);
  ASSERT_TRUE(tuned);
  EXPECT_EQ(tuned->access.jwt_leeway, std::chrono::seconds(0));
  EXPECT_EQ(tuned->access.jwt_jwks_refresh, std::chrono::seconds(60));
}

}  // namespace
}  // namespace users::config
