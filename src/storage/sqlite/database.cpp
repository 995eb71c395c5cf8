#include "storage/sqlite/database.hpp"

#include <stdexcept>

namespace users::storage::sqlite {

StoreError SqliteError::to_store_error() const {
  StoreError error;
  error.detail = message;
  switch (code & 0xFF) {
    case SQLITE_CONSTRAINT:
      error.kind = code == SQLITE_CONSTRAINT_UNIQUE ? StoreError::Kind::kDniTaken : StoreError::Kind::kInternal;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM: error.kind = StoreError::Kind::kUnavailable; break;
    default: error.kind = StoreError::Kind::kInternal; break;
  }
  return error;
}

void throw_exception_from_error(const SqliteError& error, const boost::source_location& /*location*/) {
  throw std::runtime_error(error.message);
}

SqliteResult<Database> Database::open(const std::string& path, Access access) {
  const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
                    (access == Access::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return SqliteError{rc, sqlite3_errstr(rc)};
    return db.last_error();
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

SqliteError Database::last_error() const {
  return SqliteError{sqlite3_extended_errcode(handle()), sqlite3_errmsg(handle())};
}

SqliteResult<void> Database::execute(const char* sql) const {
  if (sqlite3_exec(handle(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) return last_error();
  return {};
}

SqliteResult<Statement> Database::prepare(std::string_view sql) const {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v3(handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) return last_error();
  return Statement(raw);
}

Statement::Run& Statement::Run::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_->handle(), index, value);
  return *this;
}

Statement::Run& Statement::Run::bind(int index, std::string_view value) {
  // SQLITE_STATIC: the caller's text outlives the Run that uses it.
  sqlite3_bind_text(statement_->handle(), index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  return *this;
}

Statement::Run& Statement::Run::bind(int index, const std::optional<std::string>& value) {
  if (value) return bind(index, std::string_view(*value));
  return bind_null(index);
}

Statement::Run& Statement::Run::bind_null(int index) {
  sqlite3_bind_null(statement_->handle(), index);
  return *this;
}

SqliteResult<bool> Statement::Run::step() {
  const int rc = sqlite3_step(statement_->handle());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(statement_->handle());
  return SqliteError{sqlite3_extended_errcode(db), sqlite3_errmsg(db)};
}

std::int64_t Statement::Run::column_int64(int index) const {
  return sqlite3_column_int64(statement_->handle(), index);
}

std::string_view Statement::Run::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_->handle(), index));
  const int size = sqlite3_column_bytes(statement_->handle(), index);
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(size)};
}

}  // namespace users::storage::sqlite
