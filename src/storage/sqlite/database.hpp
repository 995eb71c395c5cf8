// Thin RAII over the SQLite C API, private to the SQLite backend.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/user_store.hpp"

namespace users::storage::sqlite {

struct SqliteError {
  SqliteError() = default;
  SqliteError(int error_code, std::string error_message) : code(error_code), message(std::move(error_message)) {}

  int code = SQLITE_ERROR;  // extended result code
  std::string message;

  [[nodiscard]] StoreError to_store_error() const;
};

template <typename T>
using SqliteResult = boost::system::result<T, SqliteError>;

[[noreturn]] void throw_exception_from_error(const SqliteError& error, const boost::source_location& location);

class Statement;

class Database {
 public:
  enum class Access { kReadWrite, kReadOnly };

  static SqliteResult<Database> open(const std::string& path, Access access);

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() = default;

  // Runs one or more statements that return no rows.
  SqliteResult<void> execute(const char* sql) const;
  SqliteResult<Statement> prepare(std::string_view sql) const;

  [[nodiscard]] sqlite3* handle() const { return handle_.get(); }
  [[nodiscard]] SqliteError last_error() const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit Database(sqlite3* db) : handle_(db) {}
  std::unique_ptr<sqlite3, Closer> handle_;
};

// A prepared statement. `Statement::Run` resets it and clears its bindings
// when it goes out of scope, so a cached statement never keeps a read
// transaction open past the call that used it.
class Statement {
 public:
  class Run {
   public:
    explicit Run(Statement& statement) : statement_(&statement) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    Run(Run&&) = delete;
    Run& operator=(Run&&) = delete;
    ~Run() {
      sqlite3_reset(statement_->handle());
      sqlite3_clear_bindings(statement_->handle());
    }

    Run& bind(int index, std::int64_t value);
    Run& bind(int index, std::string_view value);
    Run& bind(int index, const std::optional<std::string>& value);
    Run& bind_null(int index);

    // True while a row is available; an error once stepping fails.
    SqliteResult<bool> step();

    [[nodiscard]] std::int64_t column_int64(int index) const;
    [[nodiscard]] std::string_view column_text(int index) const;

   private:
    Statement* statement_;
  };

  Statement() = default;
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() = default;

  [[nodiscard]] sqlite3_stmt* handle() const { return handle_.get(); }

 private:
  friend class Database;
  struct Finalizer {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  explicit Statement(sqlite3_stmt* statement) : handle_(statement) {}
  std::unique_ptr<sqlite3_stmt, Finalizer> handle_;
};

}  // namespace users::storage::sqlite
