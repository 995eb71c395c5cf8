// Settings, in order of precedence: command-line flags, then the environment
// (a .env file in the working directory fills in what the environment lacks),
// then defaults. Every setting is validated here, once, at start-up.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/server.hpp"
#include "observability/log.hpp"

namespace users::config {

struct SqliteDatabase {
  std::string path;
};

using Database = std::variant<SqliteDatabase>;

struct Config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  std::string database_url = "sqlite:///./db.sqlite3";
  Database database = SqliteDatabase{"./db.sqlite3"};
  std::size_t threads = 1;
  observability::Level log_level = observability::Level::kInfo;
  observability::Format log_format = observability::Format::kJson;
  // After SIGTERM, /readyz answers 503 for this long while requests are still
  // served, so load balancers stop sending before the listener closes.
  std::chrono::milliseconds shutdown_delay{0};
  bool sqlite_synchronous_full = false;
  http::Limits limits;
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
  std::string database_name;  // the reference's name for the SQLite file
  std::string threads;
  std::string log_level;
  std::string log_format;
  std::string shutdown_delay;
  std::string sqlite_synchronous;
  std::string max_body_bytes;
  std::string max_header_bytes;
  std::string max_connections;
  std::string idle_timeout;
  std::string request_timeout;
  std::string write_timeout;
  std::string shutdown_timeout;
};

boost::system::result<Config, ConfigError> resolve(const RawSettings& raw);

// sqlite:///relative/path, sqlite:////absolute/path (SQLAlchemy's convention).
boost::system::result<Database, std::string> parse_database_url(std::string_view url);
// The URL with any password replaced by "***", safe for logs.
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
