#include "support/postgres.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "support/test_server.hpp"

namespace users::testing {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

}  // namespace

bool uses_postgres() {
  return !env("USERS_API_TEST_POSTGRES_URL").empty() || !env("USERS_API_TEST_POSTGRES_URL_FILE").empty();
}

std::string postgres_admin_url() {
  if (auto url = env("USERS_API_TEST_POSTGRES_URL"); !url.empty()) return url;
  if (auto file = env("USERS_API_TEST_POSTGRES_URL_FILE"); !file.empty()) return read_first_line(file);
  if (auto dir = postgres_fixture_dir(); !dir.empty()) return read_first_line(dir / "url");
  return {};
}

std::filesystem::path postgres_fixture_dir() {
  if (auto dir = env("USERS_API_TEST_POSTGRES_DIR"); !dir.empty()) return dir;
  // The fixture's url file sits in its directory, next to its TCP port.
  if (auto file = env("USERS_API_TEST_POSTGRES_URL_FILE"); !file.empty()) {
    const auto dir = std::filesystem::path(file).parent_path();
    if (std::filesystem::exists(dir / "port")) return dir;
  }
  return {};
}

std::string with_database(const std::string& url, const std::string& database) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("not a URL: " + url);
  const auto authority_end = url.find_first_of("/?", scheme + 3);
  if (authority_end == std::string::npos) return url + "/" + database;
  if (url[authority_end] == '?') return url.substr(0, authority_end) + "/" + database + url.substr(authority_end);
  const auto path_end = url.find('?', authority_end);
  return url.substr(0, authority_end + 1) + database + (path_end == std::string::npos ? "" : url.substr(path_end));
}

PgConnection::PgConnection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw std::runtime_error("cannot connect to the test cluster: " + message);
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

void PgConnection::exec(const std::string& sql) {
  query(sql);
}

std::vector<std::vector<std::optional<std::string>>> PgConnection::query(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const std::string message = PQresultErrorMessage(result);
    PQclear(result);
    throw std::runtime_error(sql + ": " + message);
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int row = 0; row < PQntuples(result); ++row) {
    auto& values = rows.emplace_back();
    for (int column = 0; column < PQnfields(result); ++column) {
      if (PQgetisnull(result, row, column) != 0) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(
            std::string(PQgetvalue(result, row, column), static_cast<std::size_t>(PQgetlength(result, row, column))));
      }
    }
  }
  PQclear(result);
  return rows;
}

std::string PgConnection::scalar(const std::string& sql) {
  const auto rows = query(sql);
  if (rows.size() != 1 || rows[0].size() != 1 || !rows[0][0]) throw std::runtime_error(sql + ": not one value");
  return *rows[0][0];
}

TestDatabase::TestDatabase(std::string admin_url) : admin_url_(std::move(admin_url)) {
  if (admin_url_.empty()) throw std::runtime_error("no PostgreSQL test cluster (USERS_API_TEST_POSTGRES_*)");
  static std::atomic<int> counter{0};
  std::random_device random;
  name_ = fmt::format("users_api_test_{}_{}_{}", ::getpid(), counter++, random() % 1000000);
  PgConnection admin(admin_url_);
  // FILE_COPY: for a tiny template, much quicker than WAL-logging every page.
  admin.exec("CREATE DATABASE " + name_ + " STRATEGY FILE_COPY");
}

TestDatabase::~TestDatabase() {
  try {
    PgConnection admin(admin_url_);
    admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster may be gone already (a failed test); the fixture removes it.
  }
}

PostgresCluster::PostgresCluster() : dir_(make_temp_dir()) {
  run("init");
}

PostgresCluster::~PostgresCluster() {
  try {
    run("destroy");
  } catch (const std::exception&) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void PostgresCluster::start() {
  run("start");
}
void PostgresCluster::stop() {
  run("stop");
}

void PostgresCluster::crash() {
  run("crash");
}

std::string PostgresCluster::url(const std::string& database) const {
  return with_database(read_first_line(dir_ / "url"), database);
}

void PostgresCluster::run(const std::string& command) {
  const std::string line = "bash '" USERS_API_POSTGRES_CLUSTER_SCRIPT "' " + command + " '" + dir_.string() + "'";
  if (std::system(line.c_str()) != 0) throw std::runtime_error("failed: " + line);
}

}  // namespace users::testing
