#include "storage/sqlite/sqlite_table.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "storage/sqlite/database.hpp"
#include "storage/sqlite/migrate.hpp"

namespace users::storage::sqlite {
namespace {

using domain::User;
using domain::UserId;
using Cause = BatchFailure::Cause;

constexpr std::string_view kReadPage = "SELECT id, dni, name FROM api_user WHERE id > ?1 ORDER BY id LIMIT ?2";
constexpr std::string_view kCount = "SELECT count(*) FROM api_user";
constexpr std::string_view kInsertWithId = "INSERT INTO api_user (id, dni, name) VALUES (?1, ?2, ?3)";
constexpr std::string_view kUpsertById =
    "INSERT INTO api_user (id, dni, name) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (id) DO UPDATE SET dni = excluded.dni, name = excluded.name";
// AUTOINCREMENT hands out max(seq, max(id)) + 1; seq only ever grows, so an
// id freed by a delete stays used. The row is missing if no user was ever
// inserted.
constexpr const char* kAdvanceSequence =
    "BEGIN IMMEDIATE;"
    " UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM api_user)"
    "  WHERE name = 'api_user' AND seq < (SELECT max(id) FROM api_user);"
    " INSERT INTO sqlite_sequence (name, seq)"
    "  SELECT 'api_user', m FROM (SELECT max(id) AS m FROM api_user)"
    "  WHERE m IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'api_user');"
    " COMMIT";
// IMMEDIATE: take the write lock before reading, so that a server writing
// meanwhile makes this wait (busy_timeout), never fail with a stale snapshot.
constexpr const char* kBeginBatch = "BEGIN IMMEDIATE";
constexpr const char* kCommitBatch = "COMMIT";
constexpr const char* kRollbackBatch = "ROLLBACK";
constexpr const char* kBeginSnapshot = "BEGIN";
constexpr const char* kEndSnapshot = "COMMIT";
// A trial is one transaction; each batch in it a savepoint.
constexpr const char* kBeginTrial = "BEGIN IMMEDIATE";
constexpr const char* kRollbackTrial = "ROLLBACK";
constexpr const char* kSavepoint = "SAVEPOINT users_api_batch";
constexpr const char* kReleaseSavepoint = "RELEASE users_api_batch";
constexpr const char* kUndoSavepoint = "ROLLBACK TO users_api_batch; RELEASE users_api_batch";
constexpr const char* kIntegrityCheck = "PRAGMA integrity_check";

Cause cause_of(const SqliteError& error) {
  if (error.code == SQLITE_CONSTRAINT_PRIMARYKEY) return Cause::kIdTaken;
  if (error.code == SQLITE_CONSTRAINT_UNIQUE) return Cause::kDniTaken;
  return Cause::kDatabase;
}

class SqliteTable final : public UserTable {
 public:
  SqliteTable(Database db, Statement read_page, Statement count, Statement insert, Statement upsert)
      : db_(std::move(db)),
        read_page_(std::move(read_page)),
        count_(std::move(count)),
        insert_(std::move(insert)),
        upsert_(std::move(upsert)) {}

  StoreResult<void> begin_snapshot() override { return run(kBeginSnapshot); }
  StoreResult<void> end_snapshot() override { return run(kEndSnapshot); }

  StoreResult<void> read_page(UserId after, std::size_t limit, std::vector<User>& page) override {
    page.clear();
    Statement::Run run(read_page_);
    run.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    while (true) {
      auto row = run.step();
      if (!row) return row.error().to_store_error();
      if (!*row) return {};
      page.push_back(User{run.column_int64(0), std::string(run.column_text(1)), std::string(run.column_text(2))});
    }
  }

  StoreResult<std::int64_t> count() override {
    Statement::Run run(count_);
    auto row = run.step();
    if (!row) return row.error().to_store_error();
    return run.column_int64(0);
  }

  boost::system::result<void, BatchFailure> write(std::span<const User> users, IdPolicy policy) override {
    if (auto begun = run(in_trial_ ? kSavepoint : kBeginBatch); !begun) {
      return BatchFailure{Cause::kDatabase, std::nullopt, begun.error()};
    }
    Statement& statement = policy == IdPolicy::kReplaceExisting ? upsert_ : insert_;
    for (std::size_t row = 0; row < users.size(); ++row) {
      Statement::Run run(statement);
      run.bind(1, users[row].id).bind(2, std::string_view(users[row].dni)).bind(3, std::string_view(users[row].name));
      if (auto stepped = run.step(); !stepped) {
        undo();
        return BatchFailure{cause_of(stepped.error()), row, stepped.error().to_store_error()};
      }
    }
    if (auto committed = run(in_trial_ ? kReleaseSavepoint : kCommitBatch); !committed) {
      undo();
      return BatchFailure{Cause::kDatabase, std::nullopt, committed.error()};
    }
    return {};
  }

  StoreResult<void> begin_trial() override {
    auto begun = run(kBeginTrial);
    in_trial_ = begun.has_value();
    return begun;
  }

  StoreResult<void> rollback_trial() override {
    in_trial_ = false;
    return run(kRollbackTrial);
  }

  StoreResult<void> advance_id_sequence() override {
    if (auto advanced = run(kAdvanceSequence); !advanced) {
      (void)run(kRollbackBatch);
      return advanced.error();
    }
    return {};
  }

 private:
  StoreResult<void> run(const char* sql) {
    if (auto done = db_.execute(sql); !done) return done.error().to_store_error();
    return {};
  }

  void undo() { (void)run(in_trial_ ? kUndoSavepoint : kRollbackBatch); }

  Database db_;
  Statement read_page_;
  Statement count_;
  Statement insert_;
  Statement upsert_;
  bool in_trial_ = false;
};

std::string open_failure(const SqliteOptions& options, const SqliteError& error) {
  return describe_failure(options, error);
}

// Closes the descriptor it owns.
struct FileDescriptor {
  explicit FileDescriptor(int fd) : value(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&&) = delete;
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  ~FileDescriptor() {
    if (value >= 0) ::close(value);
  }
  int value;
};

// The rename is durable only once the file's data and the directory entry
// are on disk.
bool sync_path(const std::filesystem::path& path, int flags) {
  const FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC));
  return fd.value >= 0 && ::fsync(fd.value) == 0;
}

boost::system::result<void, std::string> copy_pages(Database& source, Database& copy) {
  sqlite3_backup* raw = sqlite3_backup_init(copy.handle(), "main", source.handle(), "main");
  if (raw == nullptr) return copy.last_error().message;
  // -1: every page in one step, under one read transaction of the source. In
  // WAL mode that snapshot blocks no writer, and, unlike a copy in several
  // steps, it cannot be restarted forever by a server that keeps writing.
  const int stepped = sqlite3_backup_step(raw, -1);
  const int finished = sqlite3_backup_finish(raw);
  if (stepped != SQLITE_DONE) return fmt::format("backup failed: {}", sqlite3_errstr(stepped));
  if (finished != SQLITE_OK) return copy.last_error().message;
  return {};
}

boost::system::result<void, std::string> check_integrity(Database& copy) {
  auto statement = copy.prepare(kIntegrityCheck);
  if (!statement) return statement.error().message;
  Statement::Run run(*statement);
  auto row = run.step();
  if (!row) return row.error().message;
  if (!*row || run.column_text(0) != "ok") {
    return fmt::format("the copy fails PRAGMA integrity_check: {}", *row ? run.column_text(0) : "no answer");
  }
  return {};
}

}  // namespace

boost::system::result<std::unique_ptr<UserTable>, std::string> open_table(const SqliteOptions& options,
                                                                          TableAccess access) {
  auto db = Database::open(options.path,
                           access == TableAccess::kRead ? Database::Access::kReadOnly : Database::Access::kReadWrite);
  if (!db) return open_failure(options, db.error());
  configure_connection(*db, options);
  if (access == TableAccess::kWrite) {
    const char* synchronous = options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    if (auto set = db->execute(synchronous); !set) return open_failure(options, set.error());
  }
  auto read_page = db->prepare(kReadPage);
  if (!read_page) return open_failure(options, read_page.error());
  auto count = db->prepare(kCount);
  if (!count) return open_failure(options, count.error());
  Statement insert;
  Statement upsert;
  if (access == TableAccess::kWrite) {
    auto prepared_insert = db->prepare(kInsertWithId);
    if (!prepared_insert) return open_failure(options, prepared_insert.error());
    auto prepared_upsert = db->prepare(kUpsertById);
    if (!prepared_upsert) return open_failure(options, prepared_upsert.error());
    insert = std::move(*prepared_insert);
    upsert = std::move(*prepared_upsert);
  }
  return std::unique_ptr<UserTable>(std::make_unique<SqliteTable>(
      std::move(*db), std::move(*read_page), std::move(*count), std::move(insert), std::move(upsert)));
}

boost::system::result<void, std::string> backup(const SqliteOptions& options, const std::string& destination) {
  auto source = Database::open(options.path, Database::Access::kReadOnly);
  if (!source) return open_failure(options, source.error());
  configure_connection(*source, options);

  const std::filesystem::path target(destination);
  const std::filesystem::path partial = target.string() + ".partial";
  std::error_code ignored;
  std::filesystem::remove(partial, ignored);
  auto fail = [&](std::string message) -> boost::system::result<void, std::string> {
    std::filesystem::remove(partial, ignored);
    return fmt::format("backup to \"{}\": {}", destination, message);
  };
  {
    auto copy = Database::open(partial.string(), Database::Access::kReadWrite);
    if (!copy) return fail(copy.error().message);
    if (auto copied = copy_pages(*source, *copy); !copied) return fail(copied.error());
    if (auto checked = check_integrity(*copy); !checked) return fail(checked.error());
  }
  if (!sync_path(partial, O_RDONLY)) return fail("cannot fsync the copy");
  std::filesystem::rename(partial, target, ignored);
  if (ignored) return fail(ignored.message());
  const auto directory = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  if (!sync_path(directory, O_RDONLY | O_DIRECTORY)) return fail("cannot fsync its directory");
  return {};
}

}  // namespace users::storage::sqlite
