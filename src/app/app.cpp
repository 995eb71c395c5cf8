#include "app/app.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>

#include "api/users_api.hpp"
#include "http/server.hpp"
#include "observability/log.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace users::app {
namespace {

namespace log = observability;

void print_config_error(std::string_view variable, std::string_view message) {
  fmt::print(stderr, "users-api: {}: {}\n", variable, message);
}

storage::sqlite::SqliteOptions sqlite_options(const config::Config& config) {
  storage::sqlite::SqliteOptions options;
  options.path = std::get<config::SqliteDatabase>(config.database).path;
  options.synchronous_full = config.sqlite_synchronous_full;
  return options;
}

// Each connection needs a descriptor; the default soft limit (1024) would cap
// MAX_CONNECTIONS long before the setting does.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

boost::json::object describe(const config::Config& config) {
  const auto& limits = config.limits;
  return {
      {"version", USERS_API_VERSION},
      {"host", config.host},
      {"port", config.port},
      {"threads", config.threads},
      {"database_url", config::redact_database_url(config.database_url)},
      {"log_level", log::level_name(config.log_level)},
      {"sqlite_synchronous", config.sqlite_synchronous_full ? "full" : "normal"},
      {"max_body_bytes", limits.max_body_bytes},
      {"max_header_bytes", limits.max_header_bytes},
      {"max_connections", limits.max_connections},
      {"idle_timeout_ms", limits.idle_timeout.count()},
      {"request_timeout_ms", limits.request_timeout.count()},
      {"write_timeout_ms", limits.write_timeout.count()},
      {"shutdown_timeout_ms", limits.drain_timeout.count()},
  };
}

bool apply_migrations(const config::Config& config) {
  auto report = storage::sqlite::migrate(sqlite_options(config));
  if (!report) {
    print_config_error("DATABASE_URL", report.error());
    return false;
  }
  boost::json::array applied;
  for (const auto& name : report->applied) applied.emplace_back(name);
  log::log_info("migrations applied", {{"schema_version", report->version_after}, {"applied", applied}});
  return true;
}

}  // namespace

int migrate(const config::Config& config) {
  log::set_log_level(config.log_level);
  return apply_migrations(config) ? kExitOk : kExitBadConfig;
}

int serve(const config::Config& config) {
  log::set_log_level(config.log_level);
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit();
  log::log_info("starting", describe(config));

  if (!apply_migrations(config)) return kExitBadConfig;
  auto store = storage::sqlite::open_store(sqlite_options(config));
  if (!store) {
    print_config_error("DATABASE_URL", store.error());
    return kExitBadConfig;
  }

  api::UsersApi api(**store, api::ApiOptions{});
  http::ServerConfig server_config{config.host, config.port, config.threads, config.limits};
  http::ServerEvents events;
  events.warning = [](std::string_view what, std::string_view detail) {
    log::log_warning(what, {{"detail", detail}});
  };
  http::Server server(
      server_config, [&api](http::Request request) { return api.handle(std::move(request)); }, events);
  if (auto listening = server.listen(); !listening) {
    fmt::print(stderr, "users-api: {}\n", listening.error());
    return kExitFailure;
  }

  // Signals are taken on the main thread; the IO threads only serve.
  boost::asio::io_context control;
  boost::asio::signal_set signals(control, SIGINT, SIGTERM);
  signals.async_wait([&server](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    log::log_info("shutting down", {{"signal", signal_number}, {"open_connections", server.open_connections()}});
    server.shutdown();
  });

  server.start();
  log::log_info("listening", {{"host", config.host}, {"port", server.port()}, {"threads", config.threads}});
  control.run();
  server.wait();
  store->reset();  // the writer thread commits what is queued, then the database closes
  log::log_info("stopped");
  return kExitOk;
}

}  // namespace users::app
