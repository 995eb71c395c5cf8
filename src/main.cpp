// users-api: parse the command line and environment, then run a command.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "app/app.hpp"
#include "app/token_command.hpp"
#include "app/transfer.hpp"
#include "config/config.hpp"

namespace {

using users::config::RawSettings;

void add_settings(CLI::App& cli, RawSettings& raw) {
  struct Setting {
    const char* flag;
    const char* env;
    std::string* target;
    const char* help;
  };
  const Setting settings[] = {
      {"--host", "HOST", &raw.host, "Address to listen on (default 0.0.0.0)"},
      {"--port", "PORT", &raw.port, "TCP port, 0 for any free one (default 8000)"},
      {"--database-url", "DATABASE_URL", &raw.database_url,
       "sqlite:///relative/path, sqlite:////absolute/path, or postgres://user:password@host:port/db?sslmode=... "
       "(default sqlite:///./db.sqlite3)"},
      {"--database-url-file", "DATABASE_URL_FILE", &raw.database_url_file,
       "File that holds DATABASE_URL (a mounted secret); set one or the other"},
      {"--database-name", "DATABASE_NAME", &raw.database_name,
       "SQLite file path, the reference's setting; DATABASE_URL wins over it"},
      {"--database-pool-size", "DATABASE_POOL_SIZE", &raw.database_pool_size,
       "PostgreSQL connections in all, at least THREADS (default 8, or THREADS if larger)"},
      {"--database-pool-timeout", "DATABASE_POOL_TIMEOUT", &raw.database_pool_timeout,
       "Seconds a request waits for a free PostgreSQL connection before a 503 (default 1)"},
      {"--database-statement-timeout", "DATABASE_STATEMENT_TIMEOUT", &raw.database_statement_timeout,
       "Seconds one PostgreSQL statement may take before a 503 (default 5)"},
      {"--database-connect-timeout", "DATABASE_CONNECT_TIMEOUT", &raw.database_connect_timeout,
       "Seconds to open a PostgreSQL connection (default 5)"},
      {"--threads", "THREADS", &raw.threads, "IO threads (default: the number of cores)"},
      {"--log-level", "LOG_LEVEL", &raw.log_level, "debug, info, warning or error (default info)"},
      {"--log-format", "LOG_FORMAT", &raw.log_format,
       "json, text, or auto: text on a terminal, json otherwise (default auto)"},
      {"--log-queue-lines", "LOG_QUEUE_LINES", &raw.log_queue_lines,
       "Log lines waiting for stdout at most; more are dropped and counted (default 16384)"},
      {"--log-queue-bytes", "LOG_QUEUE_BYTES", &raw.log_queue_bytes,
       "Bytes of log lines waiting for stdout at most (default 4194304)"},
      {"--shutdown-delay", "SHUTDOWN_DELAY", &raw.shutdown_delay,
       "Seconds /readyz answers 503 after SIGTERM before the listener closes (default 0)"},
      {"--sqlite-synchronous", "SQLITE_SYNCHRONOUS", &raw.sqlite_synchronous,
       "normal (default) or full: fsync on every commit"},
      {"--sqlite-cache-users", "SQLITE_CACHE_USERS", &raw.sqlite_cache_users,
       "Users SQLite keeps in memory for GET of one user, 256 bytes each (default 16384; 0: off)"},
      {"--etags", "ETAGS", &raw.etags,
       "on: ETag on one user, If-None-Match (304) and If-Match (412); off (default): the reference's contract"},
      {"--ops-port", "OPS_PORT", &raw.ops_port,
       "Port of /healthz, /readyz and /metrics, apart from the API; 0 serves them on PORT (default 9000)"},
      {"--ops-max-connections", "OPS_MAX_CONNECTIONS", &raw.ops_max_connections,
       "Open connections to OPS_PORT at most (default 64)"},
      {"--max-body-bytes", "MAX_BODY_BYTES", &raw.max_body_bytes, "Largest request body (default 65536)"},
      {"--max-header-bytes", "MAX_HEADER_BYTES", &raw.max_header_bytes, "Largest request header (default 16384)"},
      {"--max-connections", "MAX_CONNECTIONS", &raw.max_connections,
       "Open connections at most, lowered to what the descriptor limit holds (default 10000)"},
      {"--max-connections-per-client", "MAX_CONNECTIONS_PER_CLIENT", &raw.max_connections_per_client,
       "Open connections from one address at most, TRUSTED_PROXIES excepted; 0: no cap (default 256)"},
      {"--request-buffer-bytes", "REQUEST_BUFFER_BYTES", &raw.request_buffer_bytes,
       "Bytes of requests being received, all clients together; past it a request gets 503 (default 33554432)"},
      {"--response-buffer-bytes", "RESPONSE_BUFFER_BYTES", &raw.response_buffer_bytes,
       "Bytes of responses over 4 KiB being written, all clients together; past it a 503 (default 33554432)"},
      {"--max-list-streams", "MAX_LIST_STREAMS", &raw.max_list_streams,
       "Lists longer than one chunk sent at once; more get 503; 0: no cap (default 4)"},
      {"--pagination", "PAGINATION", &raw.pagination,
       "The list's pagination: none (the bare array), limit_offset, page_number or cursor (default none)"},
      {"--page-size", "PAGE_SIZE", &raw.page_size, "Users per page when paginated (default 100)"},
      {"--max-page-size", "MAX_PAGE_SIZE", &raw.max_page_size,
       "Largest ?limit= or ?page_size= a client may ask for (default 1000)"},
      {"--list-filters", "LIST_FILTERS", &raw.list_filters,
       "The list's query parameters read, comma-separated: dni, search, ordering (default none)"},
      {"--idle-timeout", "IDLE_TIMEOUT", &raw.idle_timeout, "Seconds a keep-alive connection may idle (default 60)"},
      {"--request-timeout", "REQUEST_TIMEOUT", &raw.request_timeout,
       "Seconds to receive a whole request once begun (default 15)"},
      {"--write-timeout", "WRITE_TIMEOUT", &raw.write_timeout, "Seconds to send a response (default 15)"},
      {"--shutdown-timeout", "SHUTDOWN_TIMEOUT", &raw.shutdown_timeout,
       "Seconds in-flight requests get after SIGTERM (default 20)"},
      {"--auth-mode", "AUTH_MODE", &raw.auth_mode,
       "none (default: the open API), token (API_TOKENS_FILE) or jwt (JWT_JWKS_URL or JWT_JWKS_FILE)"},
      {"--api-tokens-file", "API_TOKENS_FILE", &raw.api_tokens_file,
       "File of API tokens, one 'NAME SCOPES SHA256' line each; SIGHUP re-reads it"},
      {"--jwt-jwks-file", "JWT_JWKS_FILE", &raw.jwt_jwks_file, "A JWKS file with the keys that sign access tokens"},
      {"--jwt-jwks-url", "JWT_JWKS_URL", &raw.jwt_jwks_url, "https URL of the identity provider's JWKS"},
      {"--jwt-jwks-ca-file", "JWT_JWKS_CA_FILE", &raw.jwt_jwks_ca_file,
       "CA certificates for JWT_JWKS_URL (default: the system's)"},
      {"--jwt-jwks-refresh", "JWT_JWKS_REFRESH", &raw.jwt_jwks_refresh,
       "Seconds between fetches of JWT_JWKS_URL (default 300)"},
      {"--jwt-issuer", "JWT_ISSUER", &raw.jwt_issuer, "The iss every access token must carry"},
      {"--jwt-audience", "JWT_AUDIENCE", &raw.jwt_audience, "The aud every access token must carry"},
      {"--jwt-leeway", "JWT_LEEWAY", &raw.jwt_leeway, "Seconds of clock skew allowed on exp and nbf (default 30)"},
      {"--throttle-rate", "THROTTLE_RATE", &raw.throttle_rate,
       "Requests per authenticated client, N/second|minute|hour|day (default: off)"},
      {"--throttle-anon-rate", "THROTTLE_ANON_RATE", &raw.throttle_anon_rate,
       "Requests per anonymous client address, N/second|minute|hour|day (default: off)"},
      {"--trusted-proxies", "TRUSTED_PROXIES", &raw.trusted_proxies,
       "Comma-separated CIDRs whose X-Forwarded-For is believed (default: none)"},
      {"--allowed-hosts", "ALLOWED_HOSTS", &raw.allowed_hosts,
       "Host header values served, Django's syntax (default *)"},
      {"--cors-allowed-origins", "CORS_ALLOWED_ORIGINS", &raw.cors_allowed_origins,
       "Comma-separated origins allowed to call the API from a browser (default: none)"},
      {"--dni-pattern", "DNI_PATTERN", &raw.dni_pattern,
       "Regular expression (Perl syntax) every dni sent must match as a whole (default: none)"},
  };
  for (const auto& setting : settings) {
    cli.add_option(setting.flag, *setting.target, setting.help)->envname(setting.env)->type_name("");
  }
}

int run(int argc, char** argv) {
  if (auto dotenv = users::config::load_dotenv(".env"); !dotenv) {
    fmt::print(stderr, "users-api: .env: {}\n", dotenv.error());
    return users::app::kExitBadConfig;
  }

  CLI::App cli{"users-api: the users REST service (create, list, read, update and delete users)", "users-api"};
  cli.set_version_flag("--version", USERS_API_VERSION);
  RawSettings raw;
  add_settings(cli, raw);
  auto* serve = cli.add_subcommand("serve", "Apply pending migrations, then serve the API (the default)");
  auto* migrate = cli.add_subcommand("migrate", "Apply pending migrations and exit");
  auto* healthcheck = cli.add_subcommand(
      "healthcheck", "Exit 0 when the server answers 200 on its readiness URL, else 1 (for container health checks)");
  std::string health_url;
  healthcheck->add_option("--url", health_url, "Default: http://127.0.0.1:$OPS_PORT/readyz ($PORT when OPS_PORT=0)");

  users::app::DumpOptions dump;
  auto* dumpdata = cli.add_subcommand(
      "dumpdata", "Write every user in Django's fixture format (as manage.py dumpdata api.user) to stdout or a file");
  dumpdata->add_option("--output,-o", dump.output, "File to write instead of stdout");
  dumpdata->add_option("--indent", dump.indent, "Pretty-print with this many spaces, as Django's --indent")
      ->check(CLI::Range(0, 16));
  std::string fixture;
  bool dry_run = false;
  auto* loaddata = cli.add_subcommand(
      "loaddata", "Load users from a Django fixture (dumpdata's format), keeping their ids; exit 2 on a bad record");
  loaddata->add_option("FILE", fixture, "The fixture")->required();
  loaddata->add_flag("--dry-run", dry_run, "Check every record against the database, write nothing");
  users::app::CopyOptions copy;
  auto* copy_command = cli.add_subcommand(
      "copy", "Copy every user, ids kept, from one database to another (SQLite to PostgreSQL), then verify");
  copy_command->add_option("--from", copy.from_url, "Source DATABASE_URL")->required();
  copy_command->add_option("--to", copy.to_url, "Destination DATABASE_URL")->required();
  copy_command->add_flag("--append", copy.append, "Allow a destination that already holds users");
  std::string backup_file;
  auto* backup = cli.add_subcommand(
      "backup", "Copy the live SQLite database to FILE with SQLite's online backup API (PostgreSQL: use pg_dump)");
  backup->add_option("FILE", backup_file, "Where the copy goes")->required();

  auto* token = cli.add_subcommand("token", "API tokens for AUTH_MODE=token");
  std::string token_name;
  std::string token_scopes;
  auto* token_new = token->add_subcommand(
      "new", "Print a fresh random token and the line to add to API_TOKENS_FILE (which keeps only its SHA-256)");
  token_new->add_option("NAME", token_name, "Who the token is for (the audit trail's principal)")->required();
  token_new->add_option("SCOPES", token_scopes, "users:read, users:write, or users:read,users:write")->required();
  token->require_subcommand(1);

  for (auto* command : {serve, migrate, healthcheck, dumpdata, loaddata, copy_command, backup, token}) {
    command->fallthrough();
  }
  cli.require_subcommand(0, 1);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "users-api: {}\n", e.what());
    return users::app::kExitBadConfig;
  }

  // Needs no configuration, so a bad one does not stand in its way.
  if (token_new->parsed()) return users::app::token_new(token_name, token_scopes);

  auto config = users::config::resolve(raw);
  if (!config) {
    fmt::print(stderr, "users-api: {}\n", config.error().to_string());
    return users::app::kExitBadConfig;
  }
  if (healthcheck->parsed()) {
    // The ops port when there is one: a flood of API clients must not make
    // the container look unhealthy.
    const auto probe_port = config->ops_port != 0 ? config->ops_port : config->port;
    if (health_url.empty()) health_url = "http://127.0.0.1:" + std::to_string(probe_port) + "/readyz";
    return users::app::healthcheck(health_url);
  }
  if (migrate->parsed()) return users::app::migrate(*config);
  if (dumpdata->parsed()) return users::app::dumpdata(*config, dump);
  if (loaddata->parsed()) return users::app::loaddata(*config, fixture, dry_run);
  if (copy_command->parsed()) return users::app::copy(copy);
  if (backup->parsed()) return users::app::backup(*config, backup_file);
  return users::app::serve(*config);
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing below is expected to throw (errors are values); this only keeps
  // an unexpected exception from ending the process without a word.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "users-api: %s\n", e.what());
  } catch (...) {
    std::fputs("users-api: unexpected error\n", stderr);
  }
  return users::app::kExitFailure;
}
