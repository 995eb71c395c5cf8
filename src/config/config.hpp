// Settings, in order of precedence: command-line flags, then the environment
// (a .env file in the working directory fills in what the environment lacks),
// then defaults. Every setting is validated here, once, at start-up.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/limits.hpp"
#include "observability/log.hpp"

namespace users::config {

struct SqliteDatabase {
  std::string path;
};

// postgres://user:password@host:port/db?sslmode=... (or postgresql://), handed
// to libpq as it is: libpq parses it, and the standard PG* variables fill in
// what it leaves out. `url` holds the password: log only redact_database_url().
struct PostgresDatabase {
  std::string url;
  // Connections in all, split evenly between the IO threads (each thread owns
  // ceil(pool_size / threads) of them).
  std::size_t pool_size = 8;
  // How long a request waits for a free connection before it gets a 503.
  std::chrono::milliseconds pool_timeout{1000};
  // Per statement, set as statement_timeout and also enforced by the client.
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};
};

using Database = std::variant<SqliteDatabase, PostgresDatabase>;

enum class AuthMode { kNone, kToken, kJwt };

// Who may call the API, and how often. AUTH_MODE=none (the default) is the
// reference's open API; the other settings then only add host, origin and
// rate checks an operator asks for. The lists (rates, proxies, hosts,
// origins) are kept as written and parsed by the layer that applies them
// (api/), when the app is built, before the listener opens.
struct Access {
  AuthMode auth_mode = AuthMode::kNone;
  std::string api_tokens_file;
  std::string jwt_jwks_file;
  std::string jwt_jwks_url;  // https only
  std::string jwt_jwks_ca_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::chrono::seconds jwt_jwks_refresh{300};
  std::chrono::seconds jwt_leeway{30};
  std::string throttle_rate;       // per principal; empty: off
  std::string throttle_anon_rate;  // per client address; empty: off
  std::string trusted_proxies;     // CIDRs; empty: none
  std::string allowed_hosts = "*";
  std::string cors_allowed_origins;  // empty: no CORS headers
};

std::string_view auth_mode_name(AuthMode mode);

enum class PaginationMode { kNone, kLimitOffset, kPageNumber, kCursor };

// The list's pagination; PAGINATION=none (the default) is the reference's
// bare array.
struct Pagination {
  PaginationMode mode = PaginationMode::kNone;
  std::size_t page_size = 100;
  std::size_t max_page_size = 1000;
};

std::string_view pagination_mode_name(PaginationMode mode);

// LIST_FILTERS: which of DRF's filter backends read the list's query
// (django-filter's ?dni=, SearchFilter's ?search=, OrderingFilter's
// ?ordering=). None by default: the reference ignores every parameter.
struct ListFilters {
  bool dni = false;
  bool search = false;
  bool ordering = false;
};

struct Config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  // /healthz, /readyz and /metrics on a listener of their own, with their own
  // connection cap, so that API clients cannot starve the probes; 0: all on
  // the API's port.
  std::uint16_t ops_port = 9000;
  std::size_t ops_max_connections = 64;
  // Lists longer than one chunk streamed at once; more get 503. 0: no cap.
  std::size_t max_list_streams = 4;
  Pagination pagination;
  ListFilters list_filters;
  std::string database_url = "sqlite:///./db.sqlite3";
  Database database = SqliteDatabase{"./db.sqlite3"};
  std::size_t threads = 1;
  observability::Level log_level = observability::Level::kInfo;
  observability::Format log_format = observability::Format::kJson;
  // Lines waiting for stdout, at most: past either bound a line is dropped
  // and counted (users_api_log_lines_dropped_total).
  observability::LogQueueLimits log_queue;
  // After SIGTERM, /readyz answers 503 for this long while requests are still
  // served, so load balancers stop sending before the listener closes.
  std::chrono::milliseconds shutdown_delay{0};
  bool sqlite_synchronous_full = false;
  // Users SQLite keeps in memory for GET of one user (256 bytes each); 0: off.
  std::size_t sqlite_cache_users = 16384;
  // ETAGS=on: conditional requests on one user (ETag, 304, 412). Off, the
  // reference's contract: no ETag, If-Match and If-None-Match ignored.
  bool etags = false;
  http::Limits limits;
  Access access;
  // DNI_PATTERN as written (it compiles: resolve() checked); empty: off.
  std::string dni_pattern;
};

// A setting that cannot be used, named as the user would set it.
struct ConfigError {
  std::string variable;
  std::string message;

  [[nodiscard]] std::string to_string() const { return variable + ": " + message; }
};

// One raw value per setting, as CLI11 collected it from flags and environment.
struct RawSettings {
  std::string host;
  std::string port;
  std::string database_url;
  std::string database_name;      // the reference's name for the SQLite file
  std::string database_url_file;  // a file holding DATABASE_URL (a mounted secret)
  std::string database_pool_size;
  std::string database_pool_timeout;
  std::string database_statement_timeout;
  std::string database_connect_timeout;
  std::string threads;
  std::string log_level;
  std::string log_format;
  std::string log_queue_lines;
  std::string log_queue_bytes;
  std::string shutdown_delay;
  std::string sqlite_synchronous;
  std::string sqlite_cache_users;
  std::string etags;
  std::string max_body_bytes;
  std::string max_header_bytes;
  std::string max_connections;
  std::string max_connections_per_client;
  std::string request_buffer_bytes;
  std::string response_buffer_bytes;
  std::string ops_port;
  std::string ops_max_connections;
  std::string max_list_streams;
  std::string pagination;
  std::string page_size;
  std::string max_page_size;
  std::string list_filters;
  std::string idle_timeout;
  std::string request_timeout;
  std::string write_timeout;
  std::string shutdown_timeout;
  std::string auth_mode;
  std::string api_tokens_file;
  std::string jwt_jwks_file;
  std::string jwt_jwks_url;
  std::string jwt_jwks_ca_file;
  std::string jwt_jwks_refresh;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_leeway;
  std::string throttle_rate;
  std::string throttle_anon_rate;
  std::string trusted_proxies;
  std::string allowed_hosts;
  std::string cors_allowed_origins;
  std::string dni_pattern;
};

boost::system::result<Config, ConfigError> resolve(const RawSettings& raw);

// sqlite:///relative/path, sqlite:////absolute/path (SQLAlchemy's convention),
// or postgres://... / postgresql://... (libpq's URI; pool settings at defaults).
boost::system::result<Database, std::string> parse_database_url(std::string_view url);
// The URL with any password (in the user part, or a password= parameter)
// replaced by "***", safe for logs.
std::string redact_database_url(std::string_view url);

// Reads KEY=VALUE lines (with optional "export ", quotes and # comments) and
// sets each variable the environment does not already have. A missing file
// is not an error.
boost::system::result<void, std::string> load_dotenv(const std::string& path);

struct DotenvEntry {
  std::string key;
  std::string value;
};
// The parsing half of load_dotenv, for tests.
boost::system::result<std::vector<DotenvEntry>, std::string> parse_dotenv(std::string_view text);

}  // namespace users::config
