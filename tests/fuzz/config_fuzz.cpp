// The configuration: the input is a .env file. parse_dotenv reads it; each
// entry named like a setting fills that setting (the first one wins, as
// load_dotenv's setenv without overwrite does), and config::resolve validates
// them all as at start-up. The list settings then go through the parsers the
// app builds its access checks with (app/access.cpp), and every DATABASE_URL
// through the URL parser and its redaction; a DNI_PATTERN it accepts is
// compiled and matched. DATABASE_URL_FILE names a file this target writes,
// holding the value the input gave it, so no other file is ever read.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "api/allowed_hosts.hpp"
#include "api/client_address.hpp"
#include "api/cors.hpp"
#include "api/throttle.hpp"
#include "config/config.hpp"
#include "domain/dni_pattern.hpp"
#include "fuzz/temp_dir.hpp"

namespace {

using users::config::RawSettings;

// The variables main.cpp reads into RawSettings (its add_settings list; a
// setting added there belongs here too).
constexpr std::pair<std::string_view, std::string RawSettings::*> kSettings[] = {
    {"HOST", &RawSettings::host},
    {"PORT", &RawSettings::port},
    {"DATABASE_URL", &RawSettings::database_url},
    {"DATABASE_URL_FILE", &RawSettings::database_url_file},
    {"DATABASE_NAME", &RawSettings::database_name},
    {"DATABASE_POOL_SIZE", &RawSettings::database_pool_size},
    {"DATABASE_POOL_TIMEOUT", &RawSettings::database_pool_timeout},
    {"DATABASE_STATEMENT_TIMEOUT", &RawSettings::database_statement_timeout},
    {"DATABASE_CONNECT_TIMEOUT", &RawSettings::database_connect_timeout},
    {"THREADS", &RawSettings::threads},
    {"LOG_LEVEL", &RawSettings::log_level},
    {"LOG_FORMAT", &RawSettings::log_format},
    {"LOG_QUEUE_LINES", &RawSettings::log_queue_lines},
    {"LOG_QUEUE_BYTES", &RawSettings::log_queue_bytes},
    {"SHUTDOWN_DELAY", &RawSettings::shutdown_delay},
    {"SQLITE_SYNCHRONOUS", &RawSettings::sqlite_synchronous},
    {"SQLITE_CACHE_USERS", &RawSettings::sqlite_cache_users},
    {"ETAGS", &RawSettings::etags},
    {"MAX_BODY_BYTES", &RawSettings::max_body_bytes},
    {"MAX_HEADER_BYTES", &RawSettings::max_header_bytes},
    {"MAX_CONNECTIONS", &RawSettings::max_connections},
    {"MAX_CONNECTIONS_PER_CLIENT", &RawSettings::max_connections_per_client},
    {"REQUEST_BUFFER_BYTES", &RawSettings::request_buffer_bytes},
    {"RESPONSE_BUFFER_BYTES", &RawSettings::response_buffer_bytes},
    {"OPS_PORT", &RawSettings::ops_port},
    {"OPS_MAX_CONNECTIONS", &RawSettings::ops_max_connections},
    {"MAX_LIST_STREAMS", &RawSettings::max_list_streams},
    {"PAGINATION", &RawSettings::pagination},
    {"PAGE_SIZE", &RawSettings::page_size},
    {"MAX_PAGE_SIZE", &RawSettings::max_page_size},
    {"LIST_FILTERS", &RawSettings::list_filters},
    {"IDLE_TIMEOUT", &RawSettings::idle_timeout},
    {"REQUEST_TIMEOUT", &RawSettings::request_timeout},
    {"WRITE_TIMEOUT", &RawSettings::write_timeout},
    {"SHUTDOWN_TIMEOUT", &RawSettings::shutdown_timeout},
    {"AUTH_MODE", &RawSettings::auth_mode},
    {"API_TOKENS_FILE", &RawSettings::api_tokens_file},
    {"JWT_JWKS_FILE", &RawSettings::jwt_jwks_file},
    {"JWT_JWKS_URL", &RawSettings::jwt_jwks_url},
    {"JWT_JWKS_CA_FILE", &RawSettings::jwt_jwks_ca_file},
    {"JWT_JWKS_REFRESH", &RawSettings::jwt_jwks_refresh},
    {"JWT_ISSUER", &RawSettings::jwt_issuer},
    {"JWT_AUDIENCE", &RawSettings::jwt_audience},
    {"JWT_LEEWAY", &RawSettings::jwt_leeway},
    {"THROTTLE_RATE", &RawSettings::throttle_rate},
    {"THROTTLE_ANON_RATE", &RawSettings::throttle_anon_rate},
    {"TRUSTED_PROXIES", &RawSettings::trusted_proxies},
    {"ALLOWED_HOSTS", &RawSettings::allowed_hosts},
    {"CORS_ALLOWED_ORIGINS", &RawSettings::cors_allowed_origins},
    {"DNI_PATTERN", &RawSettings::dni_pattern},
};

static_assert(std::size(kSettings) <= 64, "the settings seen are one bit each of a std::uint64_t");

const std::string& url_file() {
  static const users::fuzz::TempDir dir("users-api-fuzz-config");
  static const std::string path = (dir.path() / "database_url").string();
  return path;
}

void exercise_url(std::string_view url) {
  (void)users::config::parse_database_url(url);
  const std::string redacted = users::config::redact_database_url(url);
  // Redacting is idempotent: what it left holds nothing more to hide.
  if (users::config::redact_database_url(redacted) != redacted) {
    std::fprintf(stderr, "config_fuzz: redacting twice changes %s\n", redacted.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto entries = users::config::parse_dotenv(text);
  if (!entries) return 0;

  RawSettings raw;
  std::uint64_t set = 0;
  for (const auto& entry : *entries) {
    exercise_url(entry.value);
    for (std::size_t i = 0; i < std::size(kSettings); ++i) {
      if (entry.key != kSettings[i].first || (set & (std::uint64_t{1} << i)) != 0) continue;
      set |= std::uint64_t{1} << i;
      raw.*kSettings[i].second = entry.value;
    }
  }
  if (!raw.database_url_file.empty()) {
    std::ofstream(url_file(), std::ios::trunc) << raw.database_url_file;
    raw.database_url_file = url_file();
  }

  auto resolved = users::config::resolve(raw);
  if (!resolved) {
    if (resolved.error().variable.empty()) std::abort();  // every error names its setting
    return 0;
  }
  const auto& access = resolved->access;
  (void)users::api::TrustedProxies::parse(access.trusted_proxies);
  (void)users::api::AllowedHosts::parse(access.allowed_hosts);
  (void)users::api::cors::AllowedOrigins::parse(access.cors_allowed_origins, true);
  (void)users::api::cors::AllowedOrigins::parse(access.cors_allowed_origins, false);
  if (!access.throttle_rate.empty()) (void)users::api::parse_rate(access.throttle_rate);
  if (!access.throttle_anon_rate.empty()) (void)users::api::parse_rate(access.throttle_anon_rate);
  if (!resolved->dni_pattern.empty()) {
    // What resolve() accepted compiles, and matching never throws.
    auto pattern = users::domain::DniPattern::compile(resolved->dni_pattern);
    if (!pattern) std::abort();
    (void)pattern->matches(resolved->dni_pattern);
    (void)pattern->matches("12345678Z");
  }
  return 0;
}
