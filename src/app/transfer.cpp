#include "app/transfer.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

#include "app/app.hpp"
#include "storage/postgres/postgres_table.hpp"
#include "storage/sqlite/sqlite_table.hpp"
#include "transfer/transfer.hpp"

namespace users::app {
namespace {

using TableResult = boost::system::result<std::unique_ptr<storage::UserTable>, std::string>;

enum class Role { kSource, kDestination };

storage::sqlite::SqliteOptions sqlite_options(const config::SqliteDatabase& database, bool synchronous_full) {
  storage::sqlite::SqliteOptions options;
  options.path = database.path;
  options.synchronous_full = synchronous_full;
  return options;
}

storage::postgres::PostgresOptions postgres_options(const config::PostgresDatabase& database) {
  storage::postgres::PostgresOptions options;
  options.url = database.url;
  options.redacted_url = config::redact_database_url(database.url);
  options.connect_timeout = database.connect_timeout;
  return options;
}

// A destination is migrated first (a fresh database gets its table); a
// source is only read, so that a Django reference's file or database is
// left exactly as it was.
TableResult open_table(const config::Database& database, Role role, bool synchronous_full = false) {
  if (const auto* sqlite = std::get_if<config::SqliteDatabase>(&database)) {
    const auto options = sqlite_options(*sqlite, synchronous_full);
    if (role == Role::kDestination) {
      if (auto migrated = storage::sqlite::migrate(options); !migrated) return migrated.error();
    }
    return storage::sqlite::open_table(
        options, role == Role::kSource ? storage::sqlite::TableAccess::kRead : storage::sqlite::TableAccess::kWrite);
  }
  const auto options = postgres_options(std::get<config::PostgresDatabase>(database));
  if (role == Role::kDestination) {
    if (auto migrated = storage::postgres::migrate(options); !migrated) return migrated.error();
  }
  return storage::postgres::open_table(options);
}

int exit_status(const transfer::TransferError& error) {
  return error.kind == transfer::TransferError::Kind::kBadInput ? kExitBadConfig : kExitFailure;
}

int report_error(std::string_view command, const transfer::TransferError& error) {
  fmt::print(stderr, "users-api: {}: {}\n", command, error.message);
  return exit_status(error);
}

int report_open_failure(std::string_view command, std::string_view setting, const std::string& message) {
  fmt::print(stderr, "users-api: {}: {}: {}\n", command, setting, message);
  return kExitBadConfig;
}

}  // namespace

int dumpdata(const config::Config& config, const DumpOptions& options) {
  auto table = open_table(config.database, Role::kSource);
  if (!table) return report_open_failure("dumpdata", "DATABASE_URL", table.error());
  std::ofstream file;
  if (!options.output.empty()) {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "users-api: dumpdata: {}: {}\n", options.output, std::generic_category().message(errno));
      return kExitBadConfig;
    }
  }
  auto dumped = transfer::dumpdata(**table, options.output.empty() ? std::cout : file, options.indent);
  if (!dumped) return report_error("dumpdata", dumped.error());
  if (!options.output.empty()) {
    file.close();
    if (!file) {
      fmt::print(stderr, "users-api: dumpdata: {}: {}\n", options.output, std::generic_category().message(errno));
      return kExitFailure;
    }
  }
  fmt::print(stderr, "dumpdata: {} users\n", *dumped);
  return kExitOk;
}

int loaddata(const config::Config& config, const std::string& path, bool dry_run) {
  auto table = open_table(config.database, Role::kDestination, config.sqlite_synchronous_full);
  if (!table) return report_open_failure("loaddata", "DATABASE_URL", table.error());
  auto loaded = transfer::loaddata(**table, path, dry_run);
  if (!loaded) return report_error("loaddata", loaded.error());
  if (dry_run) {
    fmt::print(stderr,
               "loaddata: dry run: {} records are valid and would load: the table would go from {} to {} users; "
               "nothing was written\n",
               loaded->records, loaded->users_before, loaded->users_after);
  } else {
    fmt::print(stderr, "loaddata: {} records loaded: the table went from {} to {} users\n", loaded->records,
               loaded->users_before, loaded->users_after);
  }
  return kExitOk;
}

int copy(const CopyOptions& options) {
  auto from_database = config::parse_database_url(options.from_url);
  if (!from_database) return report_open_failure("copy", "--from", from_database.error());
  auto to_database = config::parse_database_url(options.to_url);
  if (!to_database) return report_open_failure("copy", "--to", to_database.error());
  auto from = open_table(*from_database, Role::kSource);
  if (!from) return report_open_failure("copy", "--from", from.error());
  auto to = open_table(*to_database, Role::kDestination);
  if (!to) return report_open_failure("copy", "--to", to.error());

  const transfer::Status status{stderr, ::isatty(STDERR_FILENO) == 1};
  auto copied = transfer::copy(**from, **to, options.append, status);
  if (!copied) return report_error("copy", copied.error());
  const double rate = copied->seconds > 0 ? static_cast<double>(copied->copied.count()) / copied->seconds : 0;
  fmt::print(stderr,
             "copy: {} users copied in {:.1f} s ({:.0f} users/s); verified: the destination holds {} users, "
             "checksum {:016x} on both sides\n",
             copied->copied.count(), copied->seconds, rate, copied->destination.count(), copied->copied.sum());
  return kExitOk;
}

int backup(const config::Config& config, const std::string& path) {
  const auto* sqlite = std::get_if<config::SqliteDatabase>(&config.database);
  if (sqlite == nullptr) {
    fmt::print(stderr,
               "users-api: backup: DATABASE_URL: backup is for SQLite; back PostgreSQL up with pg_dump (see "
               "docs/POSTGRES.md)\n");
    return kExitBadConfig;
  }
  if (auto copied = storage::sqlite::backup(sqlite_options(*sqlite, false), path); !copied) {
    fmt::print(stderr, "users-api: backup: {}\n", copied.error());
    return kExitFailure;
  }
  fmt::print(stderr, "backup: {} written and checked (PRAGMA integrity_check: ok)\n", path);
  return kExitOk;
}

}  // namespace users::app
