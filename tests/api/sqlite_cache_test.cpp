// The SQLite backend's user cache and the list's (api/list_cache.hpp), seen
// from outside: a write is never followed by an older read, and what another
// process commits to the file is seen within the documented bound. (SQLite
// only: listed in tests/CMakeLists.txt.)
#include <sqlite3.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using namespace std::chrono_literals;

std::string name_of(const HttpResponse& response) {
  return std::string(boost::json::parse(response.body()).as_object().at("name").as_string());
}

// Commits `sql` to the server's file on a connection of this process, as
// another process would; true when it ran.
bool write_from_outside(const TestServer& server, const char* sql) {
  sqlite3* db = nullptr;
  const bool opened = sqlite3_open(server.database_path().c_str(), &db) == SQLITE_OK;
  sqlite3_busy_timeout(db, 5000);
  const bool ran = opened && sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ran;
}

// Reads with `read` until it gives `expected` or 2 s pass; what it gave last
// and how long after the call it was.
struct Seen {
  std::string value;
  std::chrono::steady_clock::duration lag;
};
template <typename Read>
Seen read_until(Read read, const std::string& expected) {
  const auto committed = std::chrono::steady_clock::now();
  std::string seen;
  while (std::chrono::steady_clock::now() - committed < 2s) {
    seen = read();
    if (seen == expected) break;
    std::this_thread::sleep_for(5ms);
  }
  return {seen, std::chrono::steady_clock::now() - committed};
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

  ASSERT_TRUE(write_from_outside(server, "UPDATE api_user SET name = 'after' WHERE id = 1"));
  const auto seen = read_until([&] { return name_of(client.get("/api/users/1/")); }, "after");
  EXPECT_EQ(seen.value, "after");
  EXPECT_LT(seen.lag, 600ms) << "the writer checks every 250 ms";
}

TEST(SqliteCache, EveryAcknowledgedWriteIsInTheNextList) {
  TestServer server;
  HttpClient writer(server.port());
  ASSERT_EQ(writer.post_json("/api/users/", R"({"dni":"keep","name":"k"})").result_int(), 201);
  // Readers on other connections keep the list's JSON kept, so that what they
  // render races with every commit.
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      HttpClient client(server.port());
      while (!done.load()) (void)client.get("/api/users/");
    });
  }
  HttpClient checker(server.port());
  std::int64_t next_id = 2;
  for (int round = 1; round <= 150; ++round) {
    const auto id = next_id++;
    const auto created = writer.post_json("/api/users/", fmt::format(R"({{"dni":"d{}","name":"c{}"}})", round, round));
    auto seen = users_of(checker.get("/api/users/"));
    auto expected = fmt::format("1:k,{}:c{}", id, round);
    if (created.result_int() != 201 || seen != expected) {
      ADD_FAILURE() << "round " << round << " after POST " << created.result_int() << ": " << seen;
      break;
    }
    const auto patched = writer.patch_json(fmt::format("/api/users/{}/", id), R"({"name":"p"})");
    seen = users_of(checker.get("/api/users/"));
    expected = fmt::format("1:k,{}:p", id);
    if (patched.result_int() != 200 || seen != expected) {
      ADD_FAILURE() << "round " << round << " after PATCH " << patched.result_int() << ": " << seen;
      break;
    }
    const auto removed = writer.del(fmt::format("/api/users/{}/", id));
    seen = users_of(checker.get("/api/users/"));
    if (removed.result_int() != 204 || seen != "1:k") {
      ADD_FAILURE() << "round " << round << " after DELETE " << removed.result_int() << ": " << seen;
      break;
    }
  }
  done.store(true);
  for (auto& reader : readers) reader.join();
}

TEST(SqliteCache, AnotherProcessWritingTheFileIsInTheListWithinAQuarterSecond) {
  TestServer server;
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"before"})").result_int(), 201);
  ASSERT_EQ(users_of(client.get("/api/users/")), "1:before");  // now kept
  ASSERT_EQ(users_of(client.get("/api/users/")), "1:before");

  ASSERT_TRUE(write_from_outside(server, "INSERT INTO api_user (dni, name) VALUES ('2', 'outside')"));
  const auto seen = read_until([&] { return users_of(client.get("/api/users/")); }, "1:before,2:outside");
  EXPECT_EQ(seen.value, "1:before,2:outside");
  EXPECT_LT(seen.lag, 600ms) << "the writer checks every 250 ms";
}

TEST(SqliteCache, OnlyTheWholeUnfilteredJsonListIsKept) {
  TestServer server(with_env({{"LIST_FILTERS", "dni,search,ordering"}}));
  HttpClient client(server.port());
  for (int i = 1; i <= 2; ++i) {
    ASSERT_EQ(client.post_json("/api/users/", fmt::format(R"({{"dni":"{}","name":"n{}"}})", i, i)).result_int(), 201);
  }
  ASSERT_EQ(users_of(client.get("/api/users/")), "1:n1,2:n2");  // now kept
  EXPECT_EQ(users_of(client.get("/api/users/?ordering=-id")), "2:n2,1:n1");
  EXPECT_EQ(users_of(client.get("/api/users/?dni=2")), "2:n2");
  EXPECT_EQ(users_of(client.get("/api/users/?search=n1")), "1:n1");
  const auto page = client.request("GET", "/api/users/", {}, {{"Accept", "text/html"}});
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_NE(page.body().find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(users_of(client.get("/api/users/")), "1:n1,2:n2");
  // Longer than a chunk (1000 users): streamed, never kept; whole after a write.
  insert_users(server, 1000);  // another process's commit: seen within 250 ms
  const auto inserted = std::chrono::steady_clock::now();
  std::size_t listed = 0;
  while (listed != 1002 && std::chrono::steady_clock::now() - inserted < 2s) {
    listed = boost::json::parse(client.get("/api/users/").body()).as_array().size();
  }
  ASSERT_EQ(listed, 1002U);
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"last","name":"n"})").result_int(), 201);
  EXPECT_EQ(boost::json::parse(client.get("/api/users/").body()).as_array().size(), 1003U);
}

TEST(SqliteCache, ZeroTurnsItOffAndReadsStillWork) {
  TestServer server(with_env({{"SQLITE_CACHE_USERS", "0"}}));
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"a"})").result_int(), 201);
  ASSERT_TRUE(write_from_outside(server, "UPDATE api_user SET name = 'b' WHERE id = 1"));
  EXPECT_EQ(name_of(client.get("/api/users/1/")), "b") << "without the cache the change is seen at once";
  EXPECT_EQ(users_of(client.get("/api/users/")), "1:b");
  ASSERT_TRUE(write_from_outside(server, "UPDATE api_user SET name = 'c' WHERE id = 1"));
  EXPECT_EQ(users_of(client.get("/api/users/")), "1:c") << "nor is the list kept";
}

}  // namespace
}  // namespace users::testing
