#include "config/config.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "common/database_url.hpp"
#include "domain/dni_pattern.hpp"

namespace users::config {
namespace {

template <typename Integer>
boost::system::result<Integer, ConfigError> parse_integer(std::string_view variable, std::string_view text, Integer min,
                                                          Integer max, std::string_view what) {
  Integer value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return ConfigError{std::string(variable), fmt::format("\"{}\" is not {} ({}-{})", text, what, min, max)};
  }
  return value;
}

boost::system::result<std::chrono::milliseconds, ConfigError> parse_seconds(std::string_view variable,
                                                                            std::string_view text) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 86400) {
    return ConfigError{std::string(variable), fmt::format("\"{}\" is not a number of seconds (0-86400]", text)};
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

// One row per duration setting: the variable, its raw text (empty when not
// set) and where its value goes.
struct TimeSetting {
  std::string_view variable;
  const std::string& text;
  std::chrono::milliseconds& target;
};

boost::system::result<void, ConfigError> resolve_times(std::initializer_list<TimeSetting> settings) {
  for (const TimeSetting& setting : settings) {
    if (setting.text.empty()) continue;
    auto value = parse_seconds(setting.variable, setting.text);
    if (!value) return value.error();
    setting.target = *value;
  }
  return {};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

boost::system::result<Database, std::string> parse_postgres_url(std::string_view url) {
  if (auto valid = common::check_url(url); !valid) {
    return fmt::format("\"{}\" is not a PostgreSQL URL libpq accepts: {}", redact_database_url(url), valid.error());
  }
  PostgresDatabase database;
  database.url = std::string(url);
  return Database{std::move(database)};
}

boost::system::result<std::string, ConfigError> read_url_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return ConfigError{"DATABASE_URL_FILE", fmt::format("cannot read \"{}\"", path)};
  std::stringstream contents;
  contents << file.rdbuf();
  std::string url = contents.str();
  // Secrets are often written with a trailing newline (echo, kubectl).
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  if (url.empty()) return ConfigError{"DATABASE_URL_FILE", fmt::format("\"{}\" is empty", path)};
  return {boost::system::in_place_value, std::move(url)};
}

// DATABASE_POOL_SIZE and the timeouts; they only matter for PostgreSQL but
// are checked whatever the backend, so a typo never waits for a switch.
boost::system::result<void, ConfigError> resolve_pool(const RawSettings& raw, std::size_t threads,
                                                      PostgresDatabase& database) {
  database.pool_size = std::max<std::size_t>(database.pool_size, threads);
  if (!raw.database_pool_size.empty()) {
    auto size =
        parse_integer<std::size_t>("DATABASE_POOL_SIZE", raw.database_pool_size, 1, 10000, "a connection count");
    if (!size) return size.error();
    if (*size < threads) {
      return ConfigError{
          "DATABASE_POOL_SIZE",
          fmt::format("{} is fewer than THREADS ({}): every IO thread needs a connection", *size, threads)};
    }
    database.pool_size = *size;
  }
  return resolve_times({
      {"DATABASE_POOL_TIMEOUT", raw.database_pool_timeout, database.pool_timeout},
      {"DATABASE_STATEMENT_TIMEOUT", raw.database_statement_timeout, database.statement_timeout},
      {"DATABASE_CONNECT_TIMEOUT", raw.database_connect_timeout, database.connect_timeout},
  });
}

using Resolved = boost::system::result<void, ConfigError>;

// HOST, PORT and THREADS.
Resolved resolve_listener(const RawSettings& raw, Config& config) {
  if (!raw.host.empty()) config.host = raw.host;
  if (!raw.port.empty()) {
    auto port = parse_integer<std::uint16_t>("PORT", raw.port, 0, 65535, "a port number");
    if (!port) return port.error();
    config.port = *port;
  }
  if (!raw.ops_port.empty()) {
    auto port = parse_integer<std::uint16_t>("OPS_PORT", raw.ops_port, 0, 65535, "a port number (0: no ops listener)");
    if (!port) return port.error();
    config.ops_port = *port;
  }
  if (config.ops_port != 0 && config.ops_port == config.port) {
    return ConfigError{"OPS_PORT",
                       fmt::format("{} is PORT as well; choose another, or 0 to serve all on PORT", config.ops_port)};
  }
  config.threads = std::max(1U, std::thread::hardware_concurrency());
  if (!raw.threads.empty()) {
    auto threads = parse_integer<std::size_t>("THREADS", raw.threads, 1, 1024, "a thread count");
    if (!threads) return threads.error();
    config.threads = *threads;
  }
  return {};
}

// DATABASE_URL, DATABASE_URL_FILE or DATABASE_NAME, then the pool settings
// (after THREADS, which bounds the pool size from below).
Resolved resolve_database(const RawSettings& raw, Config& config) {
  std::string_view url_variable = "DATABASE_URL";
  if (!raw.database_url_file.empty()) {
    if (!raw.database_url.empty()) {
      return ConfigError{"DATABASE_URL_FILE", "set DATABASE_URL or DATABASE_URL_FILE, not both"};
    }
    auto url = read_url_file(raw.database_url_file);
    if (!url) return url.error();
    config.database_url = std::move(*url);
    url_variable = "DATABASE_URL_FILE";
  } else if (!raw.database_url.empty()) {
    config.database_url = raw.database_url;
  } else if (!raw.database_name.empty()) {
    config.database_url = "sqlite:///" + raw.database_name;
    url_variable = "DATABASE_NAME";
  }
  auto database = parse_database_url(config.database_url);
  if (!database) return ConfigError{std::string(url_variable), database.error()};
  PostgresDatabase pool;
  if (auto pool_settings = resolve_pool(raw, config.threads, pool); !pool_settings) return pool_settings.error();
  if (auto* postgres = std::get_if<PostgresDatabase>(&*database)) {
    pool.url = std::move(postgres->url);
    *postgres = std::move(pool);
  }
  config.database = std::move(*database);
  return {};
}

// LOG_LEVEL, LOG_FORMAT and the bounds of the log queue.
Resolved resolve_logging(const RawSettings& raw, Config& config) {
  if (!raw.log_level.empty()) {
    auto level = observability::parse_level(raw.log_level);
    if (!level) {
      return ConfigError{"LOG_LEVEL", fmt::format("\"{}\" is not one of debug, info, warning, error", raw.log_level)};
    }
    config.log_level = *level;
  }
  config.log_format = *observability::parse_format("auto");
  if (!raw.log_format.empty()) {
    auto format = observability::parse_format(raw.log_format);
    if (!format) return ConfigError{"LOG_FORMAT", fmt::format("\"{}\" is not one of json, text, auto", raw.log_format)};
    config.log_format = *format;
  }
  for (const auto& [variable, text, target] :
       {std::tuple{std::string_view("LOG_QUEUE_LINES"), &raw.log_queue_lines, &config.log_queue.max_lines},
        std::tuple{std::string_view("LOG_QUEUE_BYTES"), &raw.log_queue_bytes, &config.log_queue.max_bytes}}) {
    if (text->empty()) continue;
    auto value = parse_integer<std::size_t>(variable, *text, 1, std::size_t{1} << 30, "a whole number");
    if (!value) return value.error();
    *target = *value;
  }
  return {};
}

// SHUTDOWN_DELAY, SQLITE_SYNCHRONOUS, SQLITE_CACHE_USERS and ETAGS.
Resolved resolve_lifecycle(const RawSettings& raw, Config& config) {
  if (!raw.shutdown_delay.empty()) {
    if (raw.shutdown_delay == "0") {
      config.shutdown_delay = std::chrono::milliseconds(0);
    } else {
      auto delay = parse_seconds("SHUTDOWN_DELAY", raw.shutdown_delay);
      if (!delay) return delay.error();
      config.shutdown_delay = *delay;
    }
  }
  if (!raw.sqlite_synchronous.empty()) {
    if (raw.sqlite_synchronous == "full" || raw.sqlite_synchronous == "FULL") {
      config.sqlite_synchronous_full = true;
    } else if (raw.sqlite_synchronous != "normal" && raw.sqlite_synchronous != "NORMAL") {
      return ConfigError{"SQLITE_SYNCHRONOUS", fmt::format("\"{}\" is not normal or full", raw.sqlite_synchronous)};
    }
  }
  if (!raw.sqlite_cache_users.empty()) {
    auto users = parse_integer<std::size_t>("SQLITE_CACHE_USERS", raw.sqlite_cache_users, 0, std::size_t{1} << 22,
                                            "a whole number");
    if (!users) return users.error();
    config.sqlite_cache_users = *users;
  }
  if (!raw.etags.empty()) {
    if (raw.etags == "on") {
      config.etags = true;
    } else if (raw.etags != "off") {
      return ConfigError{"ETAGS", fmt::format("\"{}\" is not on or off", raw.etags)};
    }
  }
  return {};
}

// What a body's reader holds besides the body: its read buffer (64 KiB) and
// the header's.
constexpr std::size_t kBodyReadSlack = std::size_t{96} * 1024;

// The largest answer written whole (the API docs' script is 1.5 MB): a
// smaller RESPONSE_BUFFER_BYTES could never send it.
constexpr std::size_t kLargestResponse = std::size_t{4} << 20U;

// The server's limits: sizes, then timeouts.
Resolved resolve_limits(const RawSettings& raw, Config& config) {
  auto& limits = config.limits;
  struct SizeSetting {
    std::string_view variable;
    const std::string& text;
    std::size_t& target;
    std::size_t min;
    std::size_t max;
  };
  for (const SizeSetting& setting : {
           SizeSetting{"MAX_BODY_BYTES", raw.max_body_bytes, limits.max_body_bytes, 1, std::size_t{1} << 30},
           SizeSetting{"MAX_HEADER_BYTES", raw.max_header_bytes, limits.max_header_bytes, 1024, std::size_t{1} << 20},
           SizeSetting{"MAX_CONNECTIONS", raw.max_connections, limits.max_connections, 1, 1'000'000},
           SizeSetting{"MAX_CONNECTIONS_PER_CLIENT", raw.max_connections_per_client, limits.max_connections_per_client,
                       0, 1'000'000},
           SizeSetting{"REQUEST_BUFFER_BYTES", raw.request_buffer_bytes, limits.request_buffer_bytes, 1U << 16U,
                       std::size_t{1} << 34},
           SizeSetting{"RESPONSE_BUFFER_BYTES", raw.response_buffer_bytes, limits.response_buffer_bytes,
                       kLargestResponse, std::size_t{1} << 34},
           SizeSetting{"OPS_MAX_CONNECTIONS", raw.ops_max_connections, config.ops_max_connections, 1, 100'000},
           SizeSetting{"MAX_LIST_STREAMS", raw.max_list_streams, config.max_list_streams, 0, 100'000},
       }) {
    if (setting.text.empty()) continue;
    auto value = parse_integer<std::size_t>(setting.variable, setting.text, setting.min, setting.max, "a whole number");
    if (!value) return value.error();
    setting.target = *value;
  }
  // One body at the limit must fit, with the buffer it is read through.
  if (limits.request_buffer_bytes < limits.max_body_bytes + kBodyReadSlack) {
    return ConfigError{
        "REQUEST_BUFFER_BYTES",
        fmt::format("{} cannot hold one body of MAX_BODY_BYTES ({}); at least {}", limits.request_buffer_bytes,
                    limits.max_body_bytes, limits.max_body_bytes + kBodyReadSlack)};
  }
  return resolve_times({
      {"IDLE_TIMEOUT", raw.idle_timeout, limits.idle_timeout},
      {"REQUEST_TIMEOUT", raw.request_timeout, limits.request_timeout},
      {"WRITE_TIMEOUT", raw.write_timeout, limits.write_timeout},
      {"SHUTDOWN_TIMEOUT", raw.shutdown_timeout, limits.drain_timeout},
  });
}

// A whole number of seconds, for the JWT settings (JWT_LEEWAY may be 0).
boost::system::result<std::chrono::seconds, ConfigError> parse_whole_seconds(std::string_view variable,
                                                                             std::string_view text, std::int64_t min) {
  auto seconds = parse_integer<std::int64_t>(variable, text, min, 86400, "a whole number of seconds");
  if (!seconds) return seconds.error();
  return std::chrono::seconds(*seconds);
}

// JWT mode: exactly one key source, both claims to check, https for a URL.
Resolved resolve_jwt(const RawSettings& raw, Access& access) {
  access.jwt_jwks_file = raw.jwt_jwks_file;
  access.jwt_jwks_url = raw.jwt_jwks_url;
  access.jwt_jwks_ca_file = raw.jwt_jwks_ca_file;
  access.jwt_issuer = raw.jwt_issuer;
  access.jwt_audience = raw.jwt_audience;
  if (!raw.jwt_jwks_refresh.empty()) {
    auto refresh = parse_whole_seconds("JWT_JWKS_REFRESH", raw.jwt_jwks_refresh, 10);
    if (!refresh) return refresh.error();
    access.jwt_jwks_refresh = *refresh;
  }
  if (!raw.jwt_leeway.empty()) {
    auto leeway = parse_whole_seconds("JWT_LEEWAY", raw.jwt_leeway, 0);
    if (!leeway) return leeway.error();
    access.jwt_leeway = *leeway;
  }
  if (access.auth_mode != AuthMode::kJwt) return {};
  if (access.jwt_jwks_file.empty() == access.jwt_jwks_url.empty()) {
    return ConfigError{"JWT_JWKS_URL", "AUTH_MODE=jwt needs JWT_JWKS_URL or JWT_JWKS_FILE (one of them)"};
  }
  if (!access.jwt_jwks_url.empty() && !access.jwt_jwks_url.starts_with("https://")) {
    return ConfigError{"JWT_JWKS_URL", "must be an https:// URL (keys fetched over plain HTTP could be forged)"};
  }
  if (access.jwt_issuer.empty()) return ConfigError{"JWT_ISSUER", "AUTH_MODE=jwt needs the issuer to accept"};
  if (access.jwt_audience.empty()) return ConfigError{"JWT_AUDIENCE", "AUTH_MODE=jwt needs the audience to accept"};
  return {};
}

// AUTH_MODE and what it needs, then the lists the api layer parses.
Resolved resolve_access(const RawSettings& raw, Config& config) {
  auto& access = config.access;
  if (!raw.auth_mode.empty()) {
    if (raw.auth_mode == "none") {
      access.auth_mode = AuthMode::kNone;
    } else if (raw.auth_mode == "token") {
      access.auth_mode = AuthMode::kToken;
    } else if (raw.auth_mode == "jwt") {
      access.auth_mode = AuthMode::kJwt;
    } else {
      return ConfigError{"AUTH_MODE", fmt::format("\"{}\" is not one of none, token, jwt", raw.auth_mode)};
    }
  }
  access.api_tokens_file = raw.api_tokens_file;
  if (access.auth_mode == AuthMode::kToken && access.api_tokens_file.empty()) {
    return ConfigError{"API_TOKENS_FILE", "AUTH_MODE=token needs the file of tokens"};
  }
  if (auto jwt = resolve_jwt(raw, access); !jwt) return jwt.error();
  access.throttle_rate = raw.throttle_rate;
  access.throttle_anon_rate = raw.throttle_anon_rate;
  access.trusted_proxies = raw.trusted_proxies;
  if (!raw.allowed_hosts.empty()) access.allowed_hosts = raw.allowed_hosts;
  access.cors_allowed_origins = raw.cors_allowed_origins;
  return {};
}

// Pages are built whole in memory: their size is bounded.
constexpr std::size_t kLargestPage = 10'000;

constexpr std::array<std::pair<std::string_view, PaginationMode>, 4> kPaginationModes{
    {{"none", PaginationMode::kNone},
     {"limit_offset", PaginationMode::kLimitOffset},
     {"page_number", PaginationMode::kPageNumber},
     {"cursor", PaginationMode::kCursor}}};

// PAGINATION, PAGE_SIZE, MAX_PAGE_SIZE and LIST_FILTERS.
Resolved resolve_pagination(const RawSettings& raw, Config& config) {
  auto& pagination = config.pagination;
  if (!raw.pagination.empty()) {
    const auto* mode = std::find_if(kPaginationModes.begin(), kPaginationModes.end(),
                                    [&](const auto& entry) { return entry.first == raw.pagination; });
    if (mode == kPaginationModes.end()) {
      return ConfigError{"PAGINATION",
                         fmt::format("\"{}\" is not one of none, limit_offset, page_number, cursor", raw.pagination)};
    }
    pagination.mode = mode->second;
  }
  for (const auto& [variable, text, target] :
       {std::tuple{std::string_view("PAGE_SIZE"), &raw.page_size, &pagination.page_size},
        std::tuple{std::string_view("MAX_PAGE_SIZE"), &raw.max_page_size, &pagination.max_page_size}}) {
    if (text->empty()) continue;
    auto value = parse_integer<std::size_t>(variable, *text, 1, kLargestPage, "a whole number");
    if (!value) return value.error();
    *target = *value;
  }
  auto& filters = config.list_filters;
  std::string unknown;
  for (std::string_view rest = raw.list_filters; !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string_view name = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name == "dni") {
      filters.dni = true;
    } else if (name == "search") {
      filters.search = true;
    } else if (name == "ordering") {
      filters.ordering = true;
    } else if (!name.empty() && name != "none" && unknown.empty()) {
      unknown = std::string(name);
    }
  }
  if (!unknown.empty()) {
    return ConfigError{"LIST_FILTERS", fmt::format("\"{}\" is not one of dni, search, ordering", unknown)};
  }
  if (pagination.page_size > pagination.max_page_size) {
    return ConfigError{"PAGE_SIZE", fmt::format("{} is larger than MAX_PAGE_SIZE ({})", pagination.page_size,
                                                pagination.max_page_size)};
  }
  return {};
}

// DNI_PATTERN: compiled once here so that a pattern that does not compile
// stops the start; the app compiles it again for the API.
Resolved resolve_validation(const RawSettings& raw, Config& config) {
  if (raw.dni_pattern.empty()) return {};
  if (auto pattern = domain::DniPattern::compile(raw.dni_pattern); !pattern) {
    return ConfigError{"DNI_PATTERN", fmt::format("\"{}\" does not compile: {}", raw.dni_pattern, pattern.error())};
  }
  config.dni_pattern = raw.dni_pattern;
  return {};
}

}  // namespace

std::string_view pagination_mode_name(PaginationMode mode) {
  for (const auto& [name, value] : kPaginationModes) {
    if (value == mode) return name;
  }
  return "none";
}

std::string_view auth_mode_name(AuthMode mode) {
  switch (mode) {
    case AuthMode::kToken: return "token";
    case AuthMode::kJwt: return "jwt";
    case AuthMode::kNone: break;
  }
  return "none";
}

boost::system::result<Database, std::string> parse_database_url(std::string_view url) {
  // Before Boost.URL: libpq accepts what it would refuse, such as several
  // hosts (postgresql://h1:5432,h2:5432/db).
  if (common::is_postgres_url(url)) return parse_postgres_url(url);
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fmt::format("\"{}\" is not a URL", redact_database_url(url));
  const auto scheme = parsed->scheme();
  if (scheme == "sqlite") {
    if (parsed->has_authority() && !parsed->encoded_authority().empty()) {
      return std::string("a sqlite URL has no host: use sqlite:///relative/path or sqlite:////absolute/path");
    }
    std::string path = parsed->path();
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.empty()) return std::string("a sqlite URL needs a file path, as in sqlite:///./db.sqlite3");
    return Database{SqliteDatabase{path}};
  }
  return fmt::format("unsupported scheme \"{}\" (supported: sqlite, postgres, postgresql)", std::string_view(scheme));
}

std::string redact_database_url(std::string_view url) {
  return common::redact_url(url);
}

boost::system::result<Config, ConfigError> resolve(const RawSettings& raw) {
  Config config;
  for (const auto& part : {resolve_listener, resolve_database, resolve_logging, resolve_lifecycle, resolve_limits,
                           resolve_pagination, resolve_access, resolve_validation}) {
    if (auto resolved = part(raw, config); !resolved) return resolved.error();
  }
  return config;
}

boost::system::result<std::vector<DotenvEntry>, std::string> parse_dotenv(std::string_view text) {
  std::vector<DotenvEntry> entries;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return fmt::format("line {}: expected KEY=VALUE", line_number);
    }
    const std::string_view key = trim(line.substr(0, equals));
    std::string_view value = trim(line.substr(equals + 1));
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      // A quoted value ends at its closing quote; a comment may follow.
      const auto closing = value.find(value.front(), 1);
      if (closing == std::string_view::npos) return fmt::format("line {}: unterminated quote", line_number);
      const std::string_view rest = trim(value.substr(closing + 1));
      if (!rest.empty() && rest.front() != '#')
        return fmt::format("line {}: text after the closing quote", line_number);
      value = value.substr(1, closing - 1);
    } else if (const auto comment = value.find(" #"); comment != std::string_view::npos) {
      value = trim(value.substr(0, comment));
    }
    entries.push_back({std::string(key), std::string(value)});
  }
  return entries;
}

boost::system::result<void, std::string> load_dotenv(const std::string& path) {
  std::ifstream file(path);
  if (!file) return {};
  std::stringstream contents;
  contents << file.rdbuf();
  auto entries = parse_dotenv(contents.str());
  if (!entries) return path + ": " + entries.error();
  for (const auto& entry : *entries) {
    ::setenv(entry.key.c_str(), entry.value.c_str(), 0);  // NOLINT(concurrency-mt-unsafe): no threads yet
  }
  return {};
}

}  // namespace users::config
