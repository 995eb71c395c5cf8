// Versioned migrations of the SQLite backend, and the checks that a file's
// schema is one this binary can serve.
#include "storage/sqlite/migrate.hpp"

#include <fmt/format.h>
#include <cstdint>

#include "storage/migrations.hpp"

namespace users::storage::sqlite {
namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS users_api_migrations ("
    " version integer NOT NULL PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))";
constexpr std::string_view kCurrentVersion = "SELECT coalesce(max(version), 0) FROM users_api_migrations";
constexpr std::string_view kRecordMigration = "INSERT INTO users_api_migrations (version, name) VALUES (?1, ?2)";
constexpr std::string_view kMigrationsTableExists =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users_api_migrations'";
// The shape the service relies on: the columns, a one-column unique index on
// dni, and AUTOINCREMENT ids.
constexpr std::string_view kColumnCount =
    "SELECT count(*) FROM pragma_table_info('api_user') WHERE name IN ('id', 'dni', 'name')";
constexpr std::string_view kDniUniqueIndex =
    "SELECT 1 FROM pragma_index_list('api_user') AS il"
    " WHERE il.\"unique\" = 1"
    " AND (SELECT group_concat(name) FROM pragma_index_info(il.name)) = 'dni'";
constexpr std::string_view kAutoincrement =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_user' AND upper(sql) LIKE '%AUTOINCREMENT%'";

int latest_version() {
  return sqlite_migrations().empty() ? 0 : sqlite_migrations().back().version;
}

SqliteResult<std::int64_t> query_int(Database& db, std::string_view sql) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  Statement::Run run(*statement);
  auto row = run.step();
  if (!row) return row.error();
  return *row ? run.column_int64(0) : 0;
}

// Confirms that api_user is what the service needs, whoever created it.
boost::system::result<void, std::string> check_schema(Database& db) {
  const auto columns = query_int(db, kColumnCount);
  if (!columns) return columns.error().message;
  if (*columns != 3) return std::string("table api_user lacks one of the columns id, dni, name");
  const auto unique = query_int(db, kDniUniqueIndex);
  if (!unique) return unique.error().message;
  if (*unique != 1) return std::string("table api_user has no unique index on dni");
  const auto autoincrement = query_int(db, kAutoincrement);
  if (!autoincrement) return autoincrement.error().message;
  if (*autoincrement != 1) return std::string("table api_user.id is not AUTOINCREMENT, so ids could be reused");
  return {};
}

boost::system::result<int, std::string> schema_version(Database& db) {
  const auto has_table = query_int(db, kMigrationsTableExists);
  if (!has_table) return has_table.error().message;
  if (*has_table == 0) return 0;
  const auto version = query_int(db, kCurrentVersion);
  if (!version) return version.error().message;
  return static_cast<int>(*version);
}

}  // namespace

std::string describe_failure(const SqliteOptions& options, const SqliteError& error) {
  return fmt::format("cannot use SQLite database \"{}\": {}", options.path, error.message);
}

void configure_connection(Database& db, const SqliteOptions& options) {
  sqlite3_busy_timeout(db.handle(), static_cast<int>(options.busy_timeout.count()));
}

boost::system::result<void, std::string> require_current_schema(Database& db) {
  const auto version = schema_version(db);
  if (!version) return version.error();
  if (*version != latest_version()) {
    return fmt::format("database schema is at version {}, this binary needs {}: run `users-api migrate`", *version,
                       latest_version());
  }
  return {};
}

boost::system::result<MigrationReport, std::string> migrate(const SqliteOptions& options) {
  auto db = Database::open(options.path, Database::Access::kReadWrite);
  if (!db) return describe_failure(options, db.error());
  configure_connection(*db, options);
  // WAL persists in the file; readers then never block the writer.
  if (auto wal = db->execute("PRAGMA journal_mode = WAL"); !wal) return describe_failure(options, wal.error());
  if (auto begun = db->execute("BEGIN IMMEDIATE"); !begun) return describe_failure(options, begun.error());

  auto fail = [&](std::string message) -> boost::system::result<MigrationReport, std::string> {
    (void)db->execute("ROLLBACK");
    return message;
  };
  if (auto created = db->execute(kCreateMigrationsTable); !created)
    return fail(describe_failure(options, created.error()));
  const auto current = schema_version(*db);
  if (!current) return fail(current.error());

  MigrationReport report;
  report.version_before = *current;
  report.version_after = *current;
  if (*current > latest_version()) {
    return fail(fmt::format("database schema is at version {}, newer than this binary's {}: upgrade users-api",
                            *current, latest_version()));
  }
  for (const Migration& migration : sqlite_migrations()) {
    if (migration.version <= *current) continue;
    const std::string sql(migration.sql);
    if (auto applied = db->execute(sql.c_str()); !applied) {
      return fail(
          fmt::format("migration {:04}_{} failed: {}", migration.version, migration.name, applied.error().message));
    }
    auto record = db->prepare(kRecordMigration);
    if (!record) return fail(describe_failure(options, record.error()));
    Statement::Run run(*record);
    run.bind(1, static_cast<std::int64_t>(migration.version)).bind(2, migration.name);
    if (auto step = run.step(); !step) return fail(describe_failure(options, step.error()));
    report.applied.push_back(fmt::format("{:04}_{}", migration.version, migration.name));
    report.version_after = migration.version;
  }
  if (auto shape = check_schema(*db); !shape) return fail(shape.error());
  if (auto committed = db->execute("COMMIT"); !committed) return fail(describe_failure(options, committed.error()));
  return report;
}

}  // namespace users::storage::sqlite
