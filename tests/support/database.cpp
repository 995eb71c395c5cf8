#include "support/database.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "support/postgres.hpp"

namespace users::testing {
namespace {

constexpr const char* kAllUsers = "SELECT id, dni, name FROM api_user ORDER BY id";

std::vector<StoredUser> sqlite_users(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* select = nullptr;
  if (sqlite3_prepare_v2(db, kAllUsers, -1, &select, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error(message);
  }
  std::vector<StoredUser> users;
  while (sqlite3_step(select) == SQLITE_ROW) {
    users.push_back({sqlite3_column_int64(select, 0), reinterpret_cast<const char*>(sqlite3_column_text(select, 1)),
                     reinterpret_cast<const char*>(sqlite3_column_text(select, 2))});
  }
  sqlite3_finalize(select);
  sqlite3_close(db);
  return users;
}

}  // namespace

std::vector<StoredUser> stored_users(const TestServer& server) {
  const std::string& url = server.database_url();
  if (url.starts_with("sqlite:///")) return sqlite_users(url.substr(10));
  PgConnection connection(url);
  std::vector<StoredUser> users;
  for (const auto& row : connection.query(kAllUsers)) users.push_back({std::stoll(*row[0]), *row[1], *row[2]});
  return users;
}

void insert_sqlite_users(const TestServer& server, int count) {
  sqlite3* db = nullptr;
  const std::string path = server.database_path().string();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  const std::string insert =
      "BEGIN; WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + std::to_string(count) +
      ") INSERT INTO api_user (dni, name) SELECT printf('%09dX', x + (SELECT count(*) FROM api_user)), "
      "'User number ' || x FROM n; COMMIT;";
  char* error = nullptr;
  const int rc = sqlite3_exec(db, insert.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("insert_sqlite_users: " + message);
}

void insert_users(const TestServer& server, int count) {
  const std::string& url = server.database_url();
  if (url.starts_with("sqlite:///")) {
    insert_sqlite_users(server, count);
    return;
  }
  PgConnection connection(url);
  connection.exec(
      "INSERT INTO api_user (dni, name) SELECT format('%s', lpad((x + (SELECT count(*) FROM api_user))::text, 9, "
      "'0')) || 'X', 'User number ' || x FROM generate_series(1, " +
      std::to_string(count) + ") AS x");
}

}  // namespace users::testing
