// PostgreSQL for the tests: the cluster the ctest fixture started, a fresh
// database per test, throwaway clusters of a test's own, and a blocking
// libpq connection for set-up and checks. Never a mock.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace users::testing {

// True when TestServer runs on PostgreSQL: USERS_API_TEST_POSTGRES_URL (or
// ..._URL_FILE, a file holding it) names a cluster's superuser URL. Tests
// that are inherently SQLite-specific skip themselves on it.
bool uses_postgres();

// The superuser URL of the test cluster: USERS_API_TEST_POSTGRES_URL, else
// ..._URL_FILE, else $USERS_API_TEST_POSTGRES_DIR/url (the fixture's). Empty
// when none is set.
std::string postgres_admin_url();

// The fixture cluster's directory ($USERS_API_TEST_POSTGRES_DIR, else the
// directory of ..._URL_FILE when it holds the cluster's `port` file); empty
// when the tests run against a cluster of someone else's.
std::filesystem::path postgres_fixture_dir();

// `url` with its database name replaced.
std::string with_database(const std::string& url, const std::string& database);

// A blocking connection; throws std::runtime_error on any failure.
class PgConnection {
 public:
  explicit PgConnection(const std::string& url);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  PgConnection(PgConnection&&) = delete;
  PgConnection& operator=(PgConnection&&) = delete;
  ~PgConnection();

  void exec(const std::string& sql);
  // Rows of text values (NULL as std::nullopt).
  std::vector<std::vector<std::optional<std::string>>> query(const std::string& sql);
  // The single value of a one-row, one-column query.
  std::string scalar(const std::string& sql);

 private:
  pg_conn* conn_ = nullptr;
};

// CREATE DATABASE with a unique name on the admin URL's cluster; DROP
// DATABASE ... WITH (FORCE) when destroyed.
class TestDatabase {
 public:
  explicit TestDatabase(std::string admin_url = postgres_admin_url());
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  TestDatabase(TestDatabase&&) = delete;
  TestDatabase& operator=(TestDatabase&&) = delete;
  ~TestDatabase();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string url() const { return with_database(admin_url_, name_); }

 private:
  std::string admin_url_;
  std::string name_;
};

// A cluster of the test's own (tests/support/postgres_cluster.sh), for tests
// that stop or delay PostgreSQL and must not disturb the others. Unix socket
// only; removed when destroyed.
class PostgresCluster {
 public:
  // Lays the cluster out (not started): url() is known before start().
  PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  PostgresCluster(PostgresCluster&&) = delete;
  PostgresCluster& operator=(PostgresCluster&&) = delete;
  ~PostgresCluster();

  void start();
  void stop();   // fast shutdown, data kept
  void crash();  // immediate shutdown: every backend quits at once; committed data kept
  [[nodiscard]] std::string url(const std::string& database = "postgres") const;

 private:
  void run(const std::string& command);
  std::filesystem::path dir_;
};

}  // namespace users::testing
