// The SQLite backend's user cache, seen from outside: a write is never
// followed by an older read, and what another process commits to the file is
// seen within the documented bound. (SQLite only: listed in tests/CMakeLists.txt.)
#include <sqlite3.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using namespace std::chrono_literals;

std::string name_of(const HttpResponse& response) {
  return std::string(boost::json::parse(response.body()).as_object().at("name").as_string());
}

TEST(SqliteCache, EveryAcknowledgedUpdateIsWhatTheNextReadSees) {
  TestServer server;
  HttpClient writer(server.port());
  ASSERT_EQ(writer.post_json("/api/users/", R"({"dni":"1","name":"v0"})").result_int(), 201);
  // Readers on other connections keep the user in the cache, so that reads
  // race with every commit.
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      HttpClient client(server.port());
      while (!done.load()) (void)client.get("/api/users/1/");
    });
  }
  HttpClient checker(server.port());
  for (int round = 1; round <= 300; ++round) {
    const std::string name = fmt::format("v{}", round);
    const auto patched = writer.patch_json("/api/users/1/", fmt::format(R"({{"name":"{}"}})", name));
    const auto read = checker.get("/api/users/1/");
    if (patched.result_int() != 200 || name_of(read) != name) {
      ADD_FAILURE() << "round " << round << ": PATCH " << patched.result_int() << ", then GET " << read.body();
      break;
    }
  }
  done.store(true);
  for (auto& reader : readers) reader.join();
  ASSERT_EQ(writer.del("/api/users/1/").result_int(), 204);
  EXPECT_EQ(checker.get("/api/users/1/").result_int(), 404);
}

TEST(SqliteCache, AnotherProcessWritingTheFileIsSeenWithinAQuarterSecond) {
  TestServer server;
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"before"})").result_int(), 201);
  ASSERT_EQ(name_of(client.get("/api/users/1/")), "before");  // now cached
  ASSERT_EQ(name_of(client.get("/api/users/1/")), "before");

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(server.database_path().c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE api_user SET name = 'after' WHERE id = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto committed = std::chrono::steady_clock::now();

  std::string seen;
  while (std::chrono::steady_clock::now() - committed < 2s) {
    seen = name_of(client.get("/api/users/1/"));
    if (seen == "after") break;
    std::this_thread::sleep_for(5ms);
  }
  const auto lag = std::chrono::steady_clock::now() - committed;
  EXPECT_EQ(seen, "after");
  EXPECT_LT(lag, 600ms) << "the writer checks every 250 ms";
}

TEST(SqliteCache, ZeroTurnsItOffAndReadsStillWork) {
  TestServer server(with_env({{"SQLITE_CACHE_USERS", "0"}}));
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"a"})").result_int(), 201);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(server.database_path().c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE api_user SET name = 'b' WHERE id = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(name_of(client.get("/api/users/1/")), "b") << "without the cache the change is seen at once";
}

}  // namespace
}  // namespace users::testing
