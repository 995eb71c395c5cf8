#include "app/app.hpp"

#include <malloc.h>
#include <sys/resource.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <limits>
#include <optional>

#include "api/client_address.hpp"
#include "api/route_table.hpp"
#include "api/users_api.hpp"
#include "app/access.hpp"
#include "domain/validation.hpp"
#include "http/server.hpp"
#include "http/wire.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "storage/postgres/postgres_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace users::app {
namespace {

namespace log = observability;

void print_config_error(std::string_view variable, std::string_view message) {
  fmt::print(stderr, "users-api: {}: {}\n", variable, message);
}

constexpr std::chrono::seconds kPostgresStartupGrace{2};

bool uses_postgres(const config::Config& config) {
  return std::holds_alternative<config::PostgresDatabase>(config.database);
}

storage::postgres::PostgresOptions postgres_options(const config::Config& config) {
  const auto& database = std::get<config::PostgresDatabase>(config.database);
  storage::postgres::PostgresOptions options;
  options.url = database.url;
  options.redacted_url = config::redact_database_url(database.url);
  options.pool_size = database.pool_size;
  options.threads = config.threads;
  options.pool_timeout = database.pool_timeout;
  options.statement_timeout = database.statement_timeout;
  options.connect_timeout = database.connect_timeout;
  options.events.notify = [](storage::postgres::PostgresEvents::Severity severity, std::string_view what,
                             std::string_view detail) {
    using Severity = storage::postgres::PostgresEvents::Severity;
    const auto level = severity == Severity::kInfo      ? log::Level::kInfo
                       : severity == Severity::kWarning ? log::Level::kWarning
                                                        : log::Level::kError;
    if (detail.empty()) {
      log::log(level, what);
    } else {
      log::log(level, what, {{"detail", detail}});
    }
  };
  return options;
}

storage::sqlite::SqliteOptions sqlite_options(const config::Config& config) {
  storage::sqlite::SqliteOptions options;
  options.path = std::get<config::SqliteDatabase>(config.database).path;
  options.synchronous_full = config.sqlite_synchronous_full;
  options.cache_users = config.sqlite_cache_users;
  return options;
}

// Each connection needs a descriptor; the default soft limit (1024) would cap
// MAX_CONNECTIONS long before the setting does. Returns the limit in force.
std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::numeric_limits<std::size_t>::max();
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<std::size_t>::max()
                                         : static_cast<std::size_t>(limit.rlim_cur);
}

// Descriptors that are not connections: standard streams, the log's pipe,
// each IO thread's reactor, signals, SQLite's files, a JWKS fetch, the
// accept's spare, and room for connections being refused with 503 (each
// holds a descriptor for a moment).
std::size_t reserved_descriptors(const config::Config& config) {
  constexpr std::size_t kFixed = 48;
  const auto* postgres = std::get_if<config::PostgresDatabase>(&config.database);
  // PostgreSQL: a thread holds at least two (its reads' and a write's).
  const std::size_t database =
      postgres != nullptr ? std::max(postgres->pool_size, 2 * config.threads) : 3 * (config.threads + 1);
  return kFixed + 4 * config.threads + database;
}

struct ConnectionCaps {
  std::size_t api = 0;
  std::size_t ops = 0;
};

// MAX_CONNECTIONS and OPS_MAX_CONNECTIONS as the descriptor limit lets them
// be: past a cap a client gets the documented 503 at once, instead of an
// accept that fails with EMFILE and a client left to time out.
ConnectionCaps connection_caps(const config::Config& config, std::size_t descriptor_limit) {
  const std::size_t reserved = reserved_descriptors(config);
  const std::size_t usable = descriptor_limit > reserved + 2 ? descriptor_limit - reserved : 2;
  ConnectionCaps caps;
  caps.ops = config.ops_port == 0 ? 0 : std::min(config.ops_max_connections, std::max<std::size_t>(1, usable / 4));
  caps.api = std::min(config.limits.max_connections, std::max<std::size_t>(1, usable - caps.ops));
  boost::json::object fields{{"descriptor_limit", descriptor_limit},
                             {"reserved_descriptors", reserved},
                             {"max_connections", caps.api},
                             {"ops_max_connections", caps.ops}};
  if (caps.api < config.limits.max_connections || (config.ops_port != 0 && caps.ops < config.ops_max_connections)) {
    log::log_warning("connection caps lowered to fit the descriptor limit", fields);
  } else {
    log::log_info("connection caps", fields);
  }
  return caps;
}

// The operations listener's own budgets: its GETs carry no body and its
// largest answer, /metrics, is a few tens of KiB.
constexpr std::size_t kOpsBodyBytes = 4096;
constexpr std::size_t kOpsRequestBufferBytes = std::size_t{1} << 20U;
constexpr std::size_t kOpsResponseBufferBytes = std::size_t{4} << 20U;

// glibc keeps freed memory for reuse; after a burst (bodies, lists, many
// connections) that is memory the pod is charged for while idle. Checked
// every few seconds on the main thread, never on an IO thread.
constexpr std::chrono::seconds kTrimInterval{2};
constexpr std::size_t kTrimThreshold = std::size_t{8} << 20U;

void trim_freed_memory_periodically(boost::asio::steady_timer& timer) {
  timer.expires_after(kTrimInterval);
  timer.async_wait([&timer](const boost::system::error_code& ec) {
    if (ec) return;
    const struct mallinfo2 info = mallinfo2();
    if (info.fordblks > kTrimThreshold) malloc_trim(0);
    trim_freed_memory_periodically(timer);
  });
}

std::string list_filters_text(const config::ListFilters& filters) {
  std::string text;
  for (const auto& [on, name] :
       {std::pair{filters.dni, "dni"}, std::pair{filters.search, "search"}, std::pair{filters.ordering, "ordering"}}) {
    if (!on) continue;
    if (!text.empty()) text += ',';
    text += name;
  }
  return text.empty() ? "none" : text;
}

api::PaginationOptions pagination_options(const config::Pagination& pagination) {
  api::PaginationOptions options;
  switch (pagination.mode) {
    case config::PaginationMode::kNone: options.mode = api::PaginationMode::kNone; break;
    case config::PaginationMode::kLimitOffset: options.mode = api::PaginationMode::kLimitOffset; break;
    case config::PaginationMode::kPageNumber: options.mode = api::PaginationMode::kPageNumber; break;
    case config::PaginationMode::kCursor: options.mode = api::PaginationMode::kCursor; break;
  }
  options.page_size = pagination.page_size;
  options.max_page_size = pagination.max_page_size;
  return options;
}

boost::json::object describe(const config::Config& config) {
  const auto& limits = config.limits;
  boost::json::object fields{
      {"version", USERS_API_VERSION},
      {"host", config.host},
      {"port", config.port},
      {"threads", config.threads},
      {"database_url", config::redact_database_url(config.database_url)},
      {"log_level", log::level_name(config.log_level)},
      {"log_format", log::format_name(config.log_format)},
      {"shutdown_delay_ms", config.shutdown_delay.count()},
      {"sqlite_synchronous", config.sqlite_synchronous_full ? "full" : "normal"},
      {"log_queue_lines", config.log_queue.max_lines},
      {"log_queue_bytes", config.log_queue.max_bytes},
      {"sqlite_cache_users", config.sqlite_cache_users},
      {"etags", config.etags ? "on" : "off"},
      {"max_body_bytes", limits.max_body_bytes},
      {"max_header_bytes", limits.max_header_bytes},
      {"max_connections", limits.max_connections},
      {"max_connections_per_client", limits.max_connections_per_client},
      {"request_buffer_bytes", limits.request_buffer_bytes},
      {"response_buffer_bytes", limits.response_buffer_bytes},
      {"max_list_streams", config.max_list_streams},
      {"pagination", config::pagination_mode_name(config.pagination.mode)},
      {"page_size", config.pagination.page_size},
      {"max_page_size", config.pagination.max_page_size},
      {"list_filters", list_filters_text(config.list_filters)},
      {"ops_port", config.ops_port},
      {"ops_max_connections", config.ops_max_connections},
      {"idle_timeout_ms", limits.idle_timeout.count()},
      {"request_timeout_ms", limits.request_timeout.count()},
      {"write_timeout_ms", limits.write_timeout.count()},
      {"shutdown_timeout_ms", limits.drain_timeout.count()},
      {"auth_mode", config::auth_mode_name(config.access.auth_mode)},
      {"allowed_hosts", config.access.allowed_hosts},
  };
  const auto& access = config.access;
  // Paths, URLs and rates only: a tokens file holds hashes, but its path is
  // all the log needs.
  for (const auto& [key, value] :
       {std::pair{"api_tokens_file", &access.api_tokens_file}, std::pair{"jwt_jwks_file", &access.jwt_jwks_file},
        std::pair{"jwt_issuer", &access.jwt_issuer}, std::pair{"jwt_audience", &access.jwt_audience},
        std::pair{"throttle_rate", &access.throttle_rate}, std::pair{"throttle_anon_rate", &access.throttle_anon_rate},
        std::pair{"trusted_proxies", &access.trusted_proxies},
        std::pair{"cors_allowed_origins", &access.cors_allowed_origins},
        std::pair{"dni_pattern", &config.dni_pattern}}) {
    if (!value->empty()) fields[key] = *value;
  }
  // A URL may carry a password in its user part, as a database URL may.
  if (!access.jwt_jwks_url.empty()) fields["jwt_jwks_url"] = config::redact_database_url(access.jwt_jwks_url);
  if (const auto* postgres = std::get_if<config::PostgresDatabase>(&config.database)) {
    fields["database_pool_size"] = postgres->pool_size;
    fields["database_pool_timeout_ms"] = postgres->pool_timeout.count();
    fields["database_statement_timeout_ms"] = postgres->statement_timeout.count();
    fields["database_connect_timeout_ms"] = postgres->connect_timeout.count();
  }
  return fields;
}

void log_migrations(const storage::MigrationReport& report) {
  boost::json::array applied;
  for (const auto& name : report.applied) applied.emplace_back(name);
  log::log_info("migrations applied", {{"schema_version", report.version_after}, {"applied", applied}});
}

// A message for the operator when the database cannot be brought up to date.
boost::system::result<void, std::string> apply_migrations(const config::Config& config) {
  auto report = uses_postgres(config) ? storage::postgres::migrate(postgres_options(config))
                                      : storage::sqlite::migrate(sqlite_options(config));
  if (!report) return report.error();
  log_migrations(*report);
  return {};
}

// SQLite: migrations first, and a database that cannot be used stops the
// start. PostgreSQL: the store starts at once and applies migrations in the
// background, retrying while the server is down; until then /readyz and the
// API answer 503 (a replica must not crash-loop because its database
// restarts).
boost::system::result<std::unique_ptr<storage::UserStore>, std::string> open_store(const config::Config& config) {
  if (uses_postgres(config)) {
    auto store = storage::postgres::open_store(postgres_options(config));
    // A healthy start is ready by the time it listens (no 503 window for the
    // first requests); a database that is down delays listening only this long.
    store->wait_until_ready(kPostgresStartupGrace);
    return std::unique_ptr<storage::UserStore>(std::move(store));
  }
  if (auto migrated = apply_migrations(config); !migrated) return migrated.error();
  auto store = storage::sqlite::open_store(sqlite_options(config));
  if (!store) return store.error();
  return std::move(*store);
}

// The labels of the metrics' routes: the API's, then the server's own for
// what it refuses or cuts without the API (static: Metrics keeps a span).
constexpr auto kMetricRouteLabels = [] {
  std::array<std::string_view, api::kRouteLabels.size() + 3> labels{};
  std::copy(api::kRouteLabels.begin(), api::kRouteLabels.end(), labels.begin());
  labels[api::kRouteLabels.size()] = http::kMalformedRoute;
  labels[api::kRouteLabels.size() + 1] = http::kTimeoutRoute;
  labels[api::kRouteLabels.size() + 2] = http::kOverloadedRoute;
  return labels;
}();
static_assert(kMetricRouteLabels.size() < observability::kMaxRouteLabels, "room for \"other\"");

// Probes and scrapes succeed every few seconds; they are not worth an info line.
bool is_routine(const http::Exchange& exchange) {
  return exchange.status < 400 &&
         (exchange.route == "/healthz" || exchange.route == "/readyz" || exchange.route == "/metrics");
}

void record(observability::Metrics& metrics, const http::Exchange& exchange) {
  metrics.observe_request(exchange.route, exchange.method, exchange.status, exchange.duration);
  // Timeouts are the client's silence, frequent under a slow network: debug.
  const auto level =
      is_routine(exchange) || exchange.route == http::kTimeoutRoute ? log::Level::kDebug : log::Level::kInfo;
  if (!log::log_enabled(level)) return;
  log::log_access(
      level, log::AccessRecord{exchange.method, exchange.route, exchange.target, exchange.status, exchange.body_bytes,
                               std::chrono::duration_cast<std::chrono::microseconds>(exchange.duration), exchange.peer,
                               exchange.request_id,
                               exchange.client.empty() ? http::address_of_peer(exchange.peer) : exchange.client,
                               exchange.principal, exchange.complete});
}

// What the API needs from the process: readiness, and the metrics with the
// server's gauges (`server_ptr` is set once the server exists).
api::ApiOptions api_options(std::atomic<bool>& accepting, observability::Metrics& metrics, http::Server*& server_ptr) {
  api::ApiOptions api_options;
  api_options.accepting_traffic = [&accepting] { return accepting.load(std::memory_order_relaxed); };
  api_options.metrics = &metrics;
  api_options.metrics_text = [&metrics, &server_ptr] {
    observability::Gauges gauges;
    gauges.requests_in_flight = [&server_ptr] { return static_cast<std::int64_t>(server_ptr->requests_in_flight()); };
    gauges.open_connections = [&server_ptr] { return static_cast<std::int64_t>(server_ptr->open_connections()); };
    gauges.dropped_log_lines = [] { return log::dropped_log_lines(); };
    gauges.request_buffer_bytes = [&server_ptr] {
      return static_cast<std::int64_t>(server_ptr->request_buffer_bytes());
    };
    gauges.response_buffer_bytes = [&server_ptr] {
      return static_cast<std::int64_t>(server_ptr->response_buffer_bytes());
    };
    return metrics.render(gauges);
  };
  return api_options;
}

// The operator's rules on top of the reference's (config::resolve has
// already refused a pattern that does not compile).
boost::system::result<domain::ValidationRules, std::string> validation_rules(const config::Config& config) {
  domain::ValidationRules rules;
  if (!config.dni_pattern.empty()) {
    auto pattern = domain::DniPattern::compile(config.dni_pattern);
    if (!pattern) return pattern.error();
    rules.dni_pattern = std::move(*pattern);
  }
  return rules;
}

http::ServerEvents server_events(observability::Metrics& metrics) {
  http::ServerEvents events;
  events.warning = [](std::string_view what, std::string_view detail) { log::log_warning(what, {{"detail", detail}}); };
  events.exchange = [&metrics](const http::Exchange& exchange) { record(metrics, exchange); };
  events.info = [](std::string_view what, std::string_view detail) {
    if (detail.empty()) {
      log::log_info(what);
    } else {
      log::log_info(what, {{"detail", detail}});
    }
  };
  // Both at debug: a flood of them must not become a flood of lines.
  events.connection_rejected = [&metrics](http::Rejection reason, std::string_view peer) {
    metrics.count_rejected_connection(http::rejection_name(reason));
    if (log::log_enabled(log::Level::kDebug)) {
      log::log(log::Level::kDebug, "connection refused", {{"reason", http::rejection_name(reason)}, {"peer", peer}});
    }
  };
  events.timeout = [&metrics](http::TimeoutKind kind, std::string_view peer) {
    metrics.count_timeout(http::timeout_kind_name(kind));
    // A request cut by REQUEST_TIMEOUT has its own access line (route "timeout").
    if (kind != http::TimeoutKind::kRequest && log::log_enabled(log::Level::kDebug)) {
      log::log(log::Level::kDebug, "timeout", {{"kind", http::timeout_kind_name(kind)}, {"peer", peer}});
    }
  };
  return events;
}

// Signals are taken on the main thread; the IO threads only serve. The first
// signal turns readiness off, waits SHUTDOWN_DELAY for load balancers to
// notice, then drains; a second one skips the wait. Returns once the drain
// has begun.
// Returns when the server has drained after SIGINT or SIGTERM, with the time by
// which the last log lines must be out: SHUTDOWN_TIMEOUT after the signal
// (after SHUTDOWN_DELAY), so a stdout nobody reads cannot keep the process alive.
// The signals the process answers, taken from before the listener opens: a
// signal that arrives once a client could connect is queued, never the
// default action (which would end the process with 128 + the signal).
struct ControlSignals {
  boost::asio::io_context control;
  boost::asio::signal_set stops{control, SIGINT, SIGTERM};
  // SIGHUP re-reads the credentials (a rotated tokens file, new JWT keys)
  // without a restart; with AUTH_MODE=none it is only logged.
  boost::asio::signal_set hangups{control, SIGHUP};
};

// The API's listener and, with OPS_PORT, the operations listener: they
// drain together.
struct Listeners {
  http::Server& api;
  http::Server* ops = nullptr;

  void shutdown() const {
    api.shutdown();
    if (ops != nullptr) ops->shutdown();
  }
  void wait() const {
    api.wait();
    if (ops != nullptr) ops->wait();
  }
};

std::chrono::steady_clock::time_point wait_for_signals(const config::Config& config, const Listeners& listeners,
                                                       std::atomic<bool>& accepting, auth::Authenticator* authenticator,
                                                       ControlSignals& control_signals) {
  auto& control = control_signals.control;
  auto& signals = control_signals.stops;
  auto& hangups = control_signals.hangups;
  std::function<void()> await_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      log::log_info("reloading credentials", {{"auth_mode", config::auth_mode_name(config.access.auth_mode)}});
      if (authenticator != nullptr) authenticator->reload();
      await_hangup();
    });
  };
  await_hangup();
  boost::asio::steady_timer delay(control);
  boost::asio::steady_timer trim(control);
  trim_freed_memory_periodically(trim);
  auto begin_drain = [&listeners, &signals, &hangups, &trim] {
    log::log_info("draining", {{"open_connections", listeners.api.open_connections()}});
    signals.cancel();
    hangups.cancel();
    trim.cancel();
    listeners.shutdown();
  };
  auto logs_deadline = std::chrono::steady_clock::time_point::max();
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    logs_deadline = std::chrono::steady_clock::now() + config.shutdown_delay + config.limits.drain_timeout;
    accepting.store(false, std::memory_order_relaxed);
    log::log_info("shutting down", {{"signal", signal_number}, {"delay_ms", config.shutdown_delay.count()}});
    if (config.shutdown_delay.count() == 0) {
      begin_drain();
      return;
    }
    delay.expires_after(config.shutdown_delay);
    delay.async_wait([&](const boost::system::error_code&) { begin_drain(); });
    signals.async_wait([&](const boost::system::error_code& again, int) {
      if (!again) delay.cancel();
    });
  });
  control.run();
  return logs_deadline;
}

}  // namespace

int migrate(const config::Config& config) {
  log::configure_logging(config.log_level, config.log_format);
  log::configure_log_limits(config.log_queue);
  if (auto migrated = apply_migrations(config); !migrated) {
    print_config_error("DATABASE_URL", migrated.error());
    return kExitBadConfig;
  }
  return kExitOk;
}

int serve(const config::Config& config) {
  log::configure_logging(config.log_level, config.log_format);
  log::configure_log_limits(config.log_queue);
  std::signal(SIGPIPE, SIG_IGN);
  const std::size_t descriptor_limit = raise_descriptor_limit();
  log::log_info("starting", describe(config));
  const ConnectionCaps caps = connection_caps(config, descriptor_limit);

  auto access = make_access(config.access);
  if (!access) {
    print_config_error(access.error().variable, access.error().message);
    return kExitBadConfig;
  }

  auto store = open_store(config);
  if (!store) {
    print_config_error("DATABASE_URL", store.error());
    return kExitBadConfig;
  }

  auto validation = validation_rules(config);
  if (!validation) {
    print_config_error("DNI_PATTERN", validation.error());
    return kExitBadConfig;
  }

  observability::Metrics metrics(kMetricRouteLabels);
  std::atomic<bool> accepting{true};
  http::Server* server_ptr = nullptr;

  auto options = api_options(accepting, metrics, server_ptr);
  auth::Authenticator* authenticator = access->authenticator.get();
  if (authenticator != nullptr) {
    options.not_ready = [authenticator] { return authenticator->not_ready().value_or(std::string()); };
  }
  // Parsed once, by make_access: the per-client cap exempts the same proxies.
  const api::TrustedProxies trusted_proxies = access->options.trusted_proxies;
  options.access = std::move(access->options);
  options.max_list_streams = config.max_list_streams;
  options.pagination = pagination_options(config.pagination);
  options.list_filters = {config.list_filters.dni, config.list_filters.search, config.list_filters.ordering};
  options.validation = std::move(*validation);
  options.etags = config.etags;
  api::UsersApi api(**store, std::move(options));

  http::ServerConfig server_config{config.host, config.port, config.threads, config.limits};
  server_config.limits.max_connections = caps.api;
  if (!trusted_proxies.empty()) {
    server_config.uncapped_peer = [trusted_proxies](const boost::asio::ip::address& peer) {
      return trusted_proxies.contains(peer);
    };
  }
  const auto api_listener = config.ops_port == 0 ? api::Listener::kAll : api::Listener::kApi;
  http::Server server(
      server_config,
      [&api, api_listener](http::Request request, http::RequestInfo info) {
        return api.handle(std::move(request), info, api_listener);
      },
      server_events(metrics));
  server_ptr = &server;  // NOLINT(clang-analyzer-deadcode.DeadStores): the gauges read it

  // One thread of its own: probes are answered even while every API thread
  // is busy.
  std::optional<http::Server> ops_server;
  if (config.ops_port != 0) {
    http::ServerConfig ops_config{config.host, config.ops_port, 1, config.limits};
    ops_config.limits.max_connections = caps.ops;
    ops_config.limits.max_connections_per_client = 0;  // the kubelet and Prometheus may open several
    // GETs of small answers only: budgets to match, not the API's.
    ops_config.limits.max_body_bytes = kOpsBodyBytes;
    ops_config.limits.request_buffer_bytes = kOpsRequestBufferBytes;
    ops_config.limits.response_buffer_bytes = kOpsResponseBufferBytes;
    ops_server.emplace(
        ops_config,
        [&api](http::Request request, http::RequestInfo info) {
          return api.handle(std::move(request), info, api::Listener::kOps);
        },
        server_events(metrics));
  }
  const Listeners listeners{server, ops_server ? &*ops_server : nullptr};
  ControlSignals control_signals;
  if (auto listening = server.listen(); !listening) {
    fmt::print(stderr, "users-api: {}\n", listening.error());
    return kExitFailure;
  }
  if (ops_server) {
    if (auto listening = ops_server->listen(); !listening) {
      fmt::print(stderr, "users-api: OPS_PORT: {}\n", listening.error());
      return kExitFailure;
    }
  }

  server.start();
  if (ops_server) ops_server->start();
  boost::json::object listening{{"host", config.host}, {"port", server.port()}, {"threads", config.threads}};
  if (ops_server) listening["ops_port"] = ops_server->port();
  log::log_info("listening", listening);
  const auto logs_deadline = wait_for_signals(config, listeners, accepting, authenticator, control_signals);
  listeners.wait();
  // SQLite: the writer thread commits what is queued, then the database
  // closes. PostgreSQL: the start-up thread stops, the connections close.
  store->reset();
  log::log_info("stopped");
  // At least a moment for the last lines when the drain used all the time.
  log::flush_logs(std::max(logs_deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
  return kExitOk;
}

}  // namespace users::app
