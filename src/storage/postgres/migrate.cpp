#include "storage/postgres/migrate.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

#include "storage/postgres/migrations.hpp"

namespace users::storage::postgres {
namespace asio = boost::asio;

namespace {

using Outcome = boost::system::result<MigrationReport, std::string>;

// The advisory lock that serialises migrations across every process using
// the database: a fixed 64-bit key derived from the service's name (FNV-1a of
// "users-api"), so that unrelated applications are unlikely to collide.
constexpr std::int64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<std::int64_t>(hash);
}
constexpr std::int64_t kMigrationLockKey = fnv1a("users-api");

// A migration may build an index on a large table: no server-side statement
// timeout, but the client still gives up eventually (and the transaction,
// with its lock, dies with the connection).
constexpr std::chrono::minutes kMigrationStatementTimeout{5};

constexpr std::string_view kBeginLocked = "BEGIN; SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock({})";
constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS users_api_migrations ("
    " version integer NOT NULL PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
constexpr std::string_view kCurrentVersion = "SELECT coalesce(max(version), 0) FROM users_api_migrations";
constexpr std::string_view kRecordMigration = "INSERT INTO users_api_migrations (version, name) VALUES ({}, '{}')";
constexpr std::string_view kCommit = "COMMIT";
// The shape the service relies on, whoever created the table (this binary or
// Django): the three columns, a one-column unique index on dni, and ids drawn
// from a sequence (identity or serial), so that an id is never reused.
constexpr std::string_view kColumnCount =
    "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('api_user')"
    " AND attname IN ('id', 'dni', 'name') AND NOT attisdropped";
constexpr std::string_view kDniUniqueIndex =
    "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    " WHERE i.indrelid = to_regclass('api_user') AND i.indisunique AND i.indnkeyatts = 1"
    " AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = 'dni'";
constexpr std::string_view kIdFromSequence =
    "SELECT count(*) FROM (SELECT pg_get_serial_sequence('api_user', 'id') AS s) q WHERE s IS NOT NULL";

int latest_version() {
  return postgres_migrations().empty() ? 0 : postgres_migrations().back().version;
}

// Creates the awaitable in its own statement: GCC 12 mishandles temporaries
// that share a full-expression with co_await.
asio::awaitable<PgResult<ResultHandle>> run(AsyncConnection& connection, std::string_view sql) {
  auto statement = connection.execute(std::string(sql), kMigrationStatementTimeout);
  co_return co_await std::move(statement);
}

asio::awaitable<boost::system::result<std::int64_t, std::string>> query_int(AsyncConnection& connection,
                                                                            std::string_view sql) {
  auto result = co_await run(connection, sql);
  if (!result) co_return result.error().message;
  if (PQntuples(result->get()) != 1) co_return fmt::format("expected one row from: {}", sql);
  const std::string_view text(PQgetvalue(result->get(), 0, 0),
                              static_cast<std::size_t>(PQgetlength(result->get(), 0, 0)));
  std::int64_t value = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{}) {
    co_return fmt::format("not a number: {}", text);
  }
  co_return value;
}

asio::awaitable<boost::system::result<void, std::string>> check_schema(AsyncConnection& connection) {
  const auto columns = co_await query_int(connection, kColumnCount);
  if (!columns) co_return columns.error();
  if (*columns != 3) co_return std::string("table api_user lacks one of the columns id, dni, name");
  const auto unique = co_await query_int(connection, kDniUniqueIndex);
  if (!unique) co_return unique.error();
  if (*unique < 1) co_return std::string("table api_user has no unique index on dni");
  const auto sequence = co_await query_int(connection, kIdFromSequence);
  if (!sequence) co_return sequence.error();
  if (*sequence != 1) {
    co_return std::string(
        "table api_user.id takes no value from a sequence (identity or serial), so ids could be reused");
  }
  co_return boost::system::result<void, std::string>{};
}

// Everything after connecting; the caller drops the connection on failure,
// which rolls the transaction back and releases the lock.
asio::awaitable<Outcome> migrate_locked(AsyncConnection& connection) {
  const std::string begin = fmt::format(kBeginLocked, kMigrationLockKey);
  if (auto begun = co_await run(connection, begin); !begun) co_return begun.error().message;
  if (auto created = co_await run(connection, kCreateMigrationsTable); !created) co_return created.error().message;
  const auto current = co_await query_int(connection, kCurrentVersion);
  if (!current) co_return current.error();

  MigrationReport report;
  report.version_before = static_cast<int>(*current);
  report.version_after = report.version_before;
  if (*current > latest_version()) {
    co_return fmt::format("database schema is at version {}, newer than this binary's {}: upgrade users-api", *current,
                          latest_version());
  }
  for (const Migration& migration : postgres_migrations()) {
    if (migration.version <= *current) continue;
    if (auto applied = co_await run(connection, migration.sql); !applied) {
      co_return fmt::format("migration {:04}_{} failed: {}", migration.version, migration.name,
                            applied.error().message);
    }
    // The name is [a-z0-9_] (EmbedMigrations checks it), safe to inline.
    const std::string record = fmt::format(kRecordMigration, migration.version, migration.name);
    if (auto recorded = co_await run(connection, record); !recorded) co_return recorded.error().message;
    report.applied.push_back(fmt::format("{:04}_{}", migration.version, migration.name));
    report.version_after = migration.version;
  }
  if (auto shape = co_await check_schema(connection); !shape) co_return shape.error();
  if (auto committed = co_await run(connection, kCommit); !committed) co_return committed.error().message;
  co_return report;
}

}  // namespace

asio::awaitable<Outcome> apply_migrations(AsyncConnection& connection) {
  if (auto connected = co_await connection.connect(); !connected) co_return connected.error().message;
  auto outcome = co_await migrate_locked(connection);
  connection.close();
  co_return outcome;
}

boost::system::result<MigrationReport, std::string> migrate(const PostgresOptions& options) {
  auto settings = std::make_shared<const ConnectionSettings>(
      ConnectionSettings{options.url, options.redacted_url, options.connect_timeout, options.statement_timeout});
  asio::io_context io{1};
  AsyncConnection connection(io.get_executor(), settings);
  auto future = asio::co_spawn(io, apply_migrations(connection), asio::use_future);
  io.run();
  try {
    return future.get();
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

}  // namespace users::storage::postgres
