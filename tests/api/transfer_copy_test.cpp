// copy from SQLite to PostgreSQL through the real binary: every id, dni and
// name arrives, the checksum is compared on both sides, the destination's
// sequence continues after the copied ids. Suites named Postgres* run only
// in the PostgreSQL registration (tests/CMakeLists.txt).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <regex>

#include "api/transfer_helpers.hpp"
#include "support/http_client.hpp"
#include "support/postgres.hpp"

namespace users::testing {
namespace {

struct Row {
  long id;
  std::string dni;
  std::string name;
  friend bool operator==(const Row&, const Row&) = default;
};

// Ids with gaps (deleted users), and text with what tends to break a copy:
// non-ASCII, quotes, backslashes, commas, braces, control characters.
std::vector<Row> sample_users(long count) {
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(count));
  for (long n = 1; n <= count; ++n) {
    const long id = n * 3 - (n % 3);  // ascending, with gaps of 1 to 4
    rows.push_back({id, fmt::format("{}{}", n % 5 == 0 ? "ñ" : "d", n),
                    fmt::format("{} \"{}\" \\{{,}}\x01 ü", n % 2 == 0 ? "Zoë" : "O'Neil", n)});
  }
  return rows;
}

// A migrated SQLite file holding `rows`, written straight with SQLite.
std::string sqlite_source(const ScratchDatabase& scratch, const std::vector<Row>& rows) {
  const auto path = (scratch.dir() / "source.sqlite3").string();
  std::string url = "sqlite:///" + path;
  EXPECT_EQ(run_binary({"migrate"}, {{"DATABASE_URL", url}}).exit_code, 0);
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO api_user (id, dni, name) VALUES (?, ?, ?)", -1, &insert, nullptr);
  for (const auto& row : rows) {
    sqlite3_bind_int64(insert, 1, row.id);
    sqlite3_bind_text(insert, 2, row.dni.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, row.name.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return url;
}

std::vector<Row> postgres_rows(const std::string& url) {
  PgConnection connection(url);
  std::vector<Row> rows;
  for (const auto& row : connection.query("SELECT id, dni, name FROM api_user ORDER BY id")) {
    rows.push_back({std::stol(*row[0]), *row[1], *row[2]});
  }
  return rows;
}

TEST(PostgresCopy, AHundredThousandUsersFromSqliteKeepEveryIdDniAndNameAndTheChecksumMatches) {
  const ScratchDatabase scratch;
  const auto users = sample_users(100'000);
  const auto source = sqlite_source(scratch, users);
  const TestDatabase destination;
  const auto copied = run_binary({"copy", "--from", source, "--to", destination.url()});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  const std::regex report(
      R"(copy: 100000 users copied in [0-9.]+ s \([0-9]+ users/s\); verified: the destination holds 100000 users, )"
      R"(checksum [0-9a-f]{16} on both sides\n)");
  EXPECT_TRUE(std::regex_match(copied.err, report)) << copied.err;
  // Not a terminal: no progress line.
  EXPECT_EQ(copied.err.find('\r'), std::string::npos);
  const auto stored = postgres_rows(destination.url());
  ASSERT_EQ(stored.size(), users.size());
  for (std::size_t row = 0; row < users.size(); ++row) {
    ASSERT_EQ(stored[row], users[row]) << "row " << row << ": id " << stored[row].id << " vs " << users[row].id;
  }

  // The destination's ids continue after the largest copied one.
  TestServer server(with_env({{"DATABASE_URL", destination.url()}}));
  HttpClient client(server.port());
  const auto created = client.post_json("/api/users/", R"({"dni":"after","name":"A"})");
  EXPECT_EQ(created.body(), fmt::format(R"({{"id":{},"dni":"after","name":"A"}})", users.back().id + 1));
}

TEST(PostgresCopy, RefusesADestinationThatHoldsUsersUnlessAppendAndThenRefusesATakenId) {
  const ScratchDatabase scratch;
  const auto source = sqlite_source(scratch, {{1, "a", "A"}, {2, "b", "B"}});
  const TestDatabase destination;
  ASSERT_EQ(run_binary({"migrate"}, {{"DATABASE_URL", destination.url()}}).exit_code, 0);
  PgConnection(destination.url()).exec("INSERT INTO api_user (id, dni, name) VALUES (10, 'c', 'C')");

  const auto refused = run_binary({"copy", "--from", source, "--to", destination.url()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("the destination already holds 1 users"), std::string::npos) << refused.err;
  ASSERT_EQ(postgres_rows(destination.url()).size(), 1U);

  const auto appended = run_binary({"copy", "--from", source, "--to", destination.url(), "--append"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  EXPECT_NE(appended.err.find("verified: the destination holds 3 users"), std::string::npos) << appended.err;
  EXPECT_EQ(postgres_rows(destination.url()), (std::vector<Row>{{1, "a", "A"}, {2, "b", "B"}, {10, "c", "C"}}));

  const auto again = run_binary({"copy", "--from", source, "--to", destination.url(), "--append"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("user 1: the destination already has a user with this id"), std::string::npos) << again.err;
  EXPECT_EQ(postgres_rows(destination.url()).size(), 3U);
}

TEST(PostgresCopy, CopiesBackFromPostgresToSqlite) {
  const ScratchDatabase scratch;
  const auto users = sample_users(2500);
  const auto source = sqlite_source(scratch, users);
  const TestDatabase middle;
  ASSERT_EQ(run_binary({"copy", "--from", source, "--to", middle.url()}).exit_code, 0);
  const auto back = "sqlite:///" + (scratch.dir() / "back.sqlite3").string();
  const auto copied = run_binary({"copy", "--from", middle.url(), "--to", back});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_EQ(run_binary({"dumpdata"}, {{"DATABASE_URL", back}}).out,
            run_binary({"dumpdata"}, {{"DATABASE_URL", source}}).out);
}

}  // namespace
}  // namespace users::testing
