// backup of a live SQLite database, through the real binary, while the
// server takes a write load.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "support/http_client.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using namespace std::chrono_literals;

// Rows of the backup, and what PRAGMA integrity_check says of it.
struct BackupContents {
  std::string integrity;
  std::map<long, std::string> dni_by_id;
};

BackupContents read_backup(const std::string& path) {
  BackupContents contents;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr);
  if (sqlite3_step(statement) == SQLITE_ROW) {
    contents.integrity = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_prepare_v2(db, "SELECT id, dni FROM api_user", -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    contents.dni_by_id[sqlite3_column_int64(statement, 0)] =
        reinterpret_cast<const char*>(sqlite3_column_text(statement, 1));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return contents;
}

TEST(Backup, TakenUnderAWriteLoadIsConsistentAndHoldsEveryWriteAcknowledgedBeforeIt) {
  TestServer server;
  std::mutex mutex;
  std::map<long, std::string> acknowledged;  // id -> dni, once the 201 arrived
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  writers.reserve(2);
  for (int writer = 0; writer < 2; ++writer) {
    writers.emplace_back([&, writer] {
      HttpClient client(server.port());
      for (int n = 0; !stop; ++n) {
        const auto dni = fmt::format("w{}-{}", writer, n);
        const auto created = client.post_json("/api/users/", fmt::format(R"({{"dni":"{}","name":"N"}})", dni));
        if (created.result_int() != 201) continue;
        const auto id = boost::json::parse(created.body()).at("id").as_int64();
        const std::lock_guard lock(mutex);
        acknowledged[id] = dni;
      }
    });
  }
  while (true) {
    std::this_thread::sleep_for(20ms);
    const std::lock_guard lock(mutex);
    if (acknowledged.size() >= 500) break;
  }
  std::map<long, std::string> before_backup;
  {
    const std::lock_guard lock(mutex);
    before_backup = acknowledged;
  }
  const auto path = (server.dir() / "backup.sqlite3").string();
  const auto result = run_binary({"backup", path}, {{"DATABASE_URL", server.database_url()}});
  std::this_thread::sleep_for(100ms);  // writes go on after it, too
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, fmt::format("backup: {} written and checked (PRAGMA integrity_check: ok)\n", path));

  const auto backup = read_backup(path);
  EXPECT_EQ(backup.integrity, "ok");
  for (const auto& [id, dni] : before_backup) {
    const auto found = backup.dni_by_id.find(id);
    ASSERT_NE(found, backup.dni_by_id.end()) << "user " << id << " acknowledged before the backup is missing";
    EXPECT_EQ(found->second, dni);
  }
  // Nothing in it that the server did not write, and no gap before the last
  // user it holds: one snapshot, not a mix of two moments.
  const std::lock_guard lock(mutex);
  for (const auto& [id, dni] : backup.dni_by_id) EXPECT_EQ(acknowledged.at(id), dni) << id;
  const long last = backup.dni_by_id.rbegin()->first;
  for (const auto& [id, dni] : acknowledged) {
    if (id <= last) {
      EXPECT_EQ(backup.dni_by_id.count(id), 1U) << "user " << id << " missing before " << last;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(Backup, OnPostgresPointsToPgDump) {
  const auto result = run_binary({"backup", "/tmp/never-written"}, {{"DATABASE_URL", "postgres://u@127.0.0.1:1/db"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("pg_dump"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/never-written"));
}

}  // namespace
}  // namespace users::testing
