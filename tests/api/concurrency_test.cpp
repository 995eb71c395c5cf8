// Many clients at once: races for one dni have exactly one winner, creates
// from several threads all land once, reads see committed writes, and long
// lists stream as one valid JSON array.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/json/parse.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kUserAlreadyExists = R"({"detail":"User already exists"})";
constexpr std::string_view kDniTaken = R"({"dni":["user with this dni already exists."]})";

struct Outcome {
  int status = -1;
  std::string body;
};

// Runs `call` and keeps status and body; a transport failure is status -1.
template <typename Call>
Outcome capture(Call&& call) {
  try {
    const HttpResponse response = call();
    return {static_cast<int>(response.result_int()), response.body()};
  } catch (const std::exception& e) {
    return {-1, e.what()};
  }
}

struct ListedUser {
  std::int64_t id;
  std::string dni;
  std::string name;
};

// The list as the server returns it; fails the test if it is not a JSON
// array of users in strictly ascending id order.
std::vector<ListedUser> parse_list(const std::string& body) {
  boost::system::error_code ec;
  const json::value value = json::parse(body, ec);
  EXPECT_FALSE(ec) << "the list is not valid JSON (" << ec.message() << "), " << body.size() << " bytes";
  if (ec || !value.is_array()) {
    ADD_FAILURE() << "the list is not a JSON array";
    return {};
  }
  std::vector<ListedUser> users;
  for (const auto& item : value.as_array()) {
    const auto& object = item.as_object();
    EXPECT_EQ(object.size(), 3U);
    users.push_back({object.at("id").as_int64(), std::string(object.at("dni").as_string()),
                     std::string(object.at("name").as_string())});
    if (users.size() > 1) {
      EXPECT_LT(users[users.size() - 2].id, users.back().id) << "ids out of order";
    }
  }
  return users;
}

std::vector<ListedUser> list_users(std::uint16_t port) {
  HttpClient client(port);
  const auto response = client.get("/api/users/");
  EXPECT_EQ(response.result_int(), 200);
  return parse_list(response.body());
}

ServerOptions racing_server() {
  return with_env({{"THREADS", "4"}, {"IDLE_TIMEOUT", "10"}, {"REQUEST_TIMEOUT", "5"}});
}

// One keep-alive client per thread, connected before the race starts so that
// the requests leave as close together as possible.
std::vector<std::unique_ptr<HttpClient>> warm_clients(std::uint16_t port, std::size_t count) {
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<HttpClient>(port));
    EXPECT_EQ(clients.back()->get("/api/").result_int(), 200);
  }
  return clients;
}

TEST(Concurrency, RacingCreatesOfOneDniHaveExactlyOneWinner) {
  TestServer server(racing_server());
  constexpr std::size_t kThreads = 16;
  constexpr std::size_t kRounds = 8;
  auto clients = warm_clients(server.port(), kThreads);
  std::vector<std::vector<Outcome>> outcomes(kRounds, std::vector<Outcome>(kThreads));
  std::barrier sync(static_cast<std::ptrdiff_t>(kThreads));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        // Half send the dni as a JSON number: "123" and 123 are the same dni.
        const std::string dni = std::to_string(9000 + round);
        const std::string body = t % 2 == 0 ? R"({"dni":")" + dni + R"(","name":"t)" + std::to_string(t) + R"("})"
                                            : R"({"dni":)" + dni + R"(,"name":"t)" + std::to_string(t) + R"("})";
        outcomes[round][t] = capture([&] { return clients[t]->post_json("/api/users/", body); });
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::map<std::string, std::string> winners;  // dni -> name
  for (std::size_t round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int created = 0;
    for (std::size_t t = 0; t < kThreads; ++t) {
      const auto& outcome = outcomes[round][t];
      if (outcome.status == 201) {
        ++created;
        winners[std::to_string(9000 + round)] = fmt::format("t{}", t);
        continue;
      }
      EXPECT_EQ(outcome.status, 400) << outcome.body;
      EXPECT_TRUE(outcome.body == kUserAlreadyExists || outcome.body == kDniTaken) << outcome.body;
    }
    EXPECT_EQ(created, 1);
  }
  const auto users = list_users(server.port());
  ASSERT_EQ(users.size(), kRounds);
  for (const auto& user : users) EXPECT_EQ(winners[user.dni], user.name) << user.dni;
}

TEST(Concurrency, RacingUpdatesToOneDniHaveExactlyOneWinner) {
  TestServer server(racing_server());
  constexpr std::size_t kContenders = 4;  // two PUTs and two PATCHes per round
  constexpr std::size_t kRounds = 20;
  HttpClient setup(server.port());
  std::vector<std::vector<std::int64_t>> ids(kRounds);
  for (std::size_t round = 0; round < kRounds; ++round) {
    for (std::size_t c = 0; c < kContenders; ++c) {
      const auto created = setup.post_json(
          "/api/users/", R"({"dni":"r)" + std::to_string(round) + "c" + std::to_string(c) + R"(","name":"N"})");
      ASSERT_EQ(created.result_int(), 201) << created.body();
      ids[round].push_back(json::parse(created.body()).at("id").as_int64());
    }
  }

  auto clients = warm_clients(server.port(), kContenders);
  std::vector<std::vector<Outcome>> outcomes(kRounds, std::vector<Outcome>(kContenders));
  std::barrier sync(static_cast<std::ptrdiff_t>(kContenders));
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < kContenders; ++c) {
    threads.emplace_back([&, c] {
      for (std::size_t round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        const std::string target = "/api/users/" + std::to_string(ids[round][c]) + "/";
        const std::string dni = fmt::format("won{}", round);
        outcomes[round][c] = capture([&] {
          return c % 2 == 0 ? clients[c]->put_json(target, R"({"dni":")" + dni + R"(","name":"winner"})")
                            : clients[c]->patch_json(target, R"({"dni":")" + dni + R"("})");
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::map<std::int64_t, std::string> expected_dni;
  for (std::size_t round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int updated = 0;
    for (std::size_t c = 0; c < kContenders; ++c) {
      const auto& outcome = outcomes[round][c];
      const auto id = ids[round][c];
      if (outcome.status == 200) {
        ++updated;
        expected_dni[id] = fmt::format("won{}", round);
        continue;
      }
      EXPECT_EQ(outcome.status, 400) << outcome.body;
      EXPECT_EQ(outcome.body, kDniTaken);
      expected_dni[id] = fmt::format("r{}c{}", round, c);
    }
    EXPECT_EQ(updated, 1);
  }
  const auto users = list_users(server.port());
  ASSERT_EQ(users.size(), kRounds * kContenders);
  for (const auto& user : users) EXPECT_EQ(user.dni, expected_dni[user.id]) << "user " << user.id;
}

TEST(Concurrency, ConcurrentCreatesOfDistinctDnisAllLandOnce) {
  TestServer server(racing_server());
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kPerThread = 25;
  std::vector<std::vector<Outcome>> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server.port());
      for (std::size_t i = 0; i < kPerThread; ++i) {
        const std::string dni = fmt::format("t{}-{}", t, i);
        outcomes[t].push_back(capture([&] {
          return client.post_json("/api/users/",
                                  R"({"dni":")" + dni + R"(","name":"Thread )" + std::to_string(t) + R"("})");
        }));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::map<std::int64_t, std::string> acknowledged;  // id -> dni
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < kPerThread; ++i) {
      const auto& outcome = outcomes[t][i];
      ASSERT_EQ(outcome.status, 201) << outcome.body;
      const auto user = json::parse(outcome.body).as_object();
      const auto id = user.at("id").as_int64();
      EXPECT_FALSE(acknowledged.contains(id)) << "id " << id << " handed out twice";
      acknowledged[id] = std::string(user.at("dni").as_string());
      EXPECT_EQ(acknowledged[id], fmt::format("t{}-{}", t, i));
    }
  }
  const auto users = list_users(server.port());
  ASSERT_EQ(users.size(), kThreads * kPerThread);
  std::set<std::string> dnis;
  for (const auto& user : users) {
    EXPECT_EQ(acknowledged[user.id], user.dni);
    EXPECT_TRUE(dnis.insert(user.dni).second) << "dni listed twice: " << user.dni;
  }
}

TEST(Concurrency, ReadsOnOtherConnectionsSeeEveryAcknowledgedWrite) {
  TestServer server(racing_server());
  constexpr std::size_t kWriters = 2;
  constexpr std::size_t kPerWriter = 40;
  std::atomic<std::size_t> writers_left{kWriters};
  std::vector<std::string> failures[kWriters + 1];
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      HttpClient writer(server.port());
      HttpClient reader(server.port());  // a different connection, maybe a different IO thread
      for (std::size_t i = 0; i < kPerWriter; ++i) {
        const auto created = capture([&] {
          return writer.post_json("/api/users/",
                                  R"({"dni":"w)" + std::to_string(w) + "-" + std::to_string(i) + R"(","name":"W"})");
        });
        if (created.status != 201) {
          failures[w].push_back("create: " + std::to_string(created.status) + " " + created.body);
          continue;
        }
        const auto id = json::parse(created.body).at("id").as_int64();
        const auto read = capture([&] { return reader.get("/api/users/" + std::to_string(id) + "/"); });
        if (read.status != 200 || read.body != created.body) {
          failures[w].push_back("read of " + std::to_string(id) + ": " + std::to_string(read.status) + " " + read.body);
        }
      }
      --writers_left;
    });
  }
  // Meanwhile: lists must always be valid and never shrink.
  threads.emplace_back([&] {
    HttpClient lister(server.port());
    std::size_t previous = 0;
    for (int i = 0; i < 60 && writers_left.load() > 0; ++i) {
      const auto listed = capture([&] { return lister.get("/api/users/"); });
      if (listed.status != 200) {
        failures[kWriters].push_back("list: " + std::to_string(listed.status));
        continue;
      }
      const auto users = parse_list(listed.body);
      if (users.size() < previous) failures[kWriters].push_back("the list shrank");
      previous = users.size();
    }
  });
  for (auto& thread : threads) thread.join();
  for (const auto& list : failures) {
    for (const auto& failure : list) ADD_FAILURE() << failure;
  }
  EXPECT_EQ(list_users(server.port()).size(), kWriters * kPerWriter);
}

// --- long lists ---------------------------------------------------------

std::string escape_json(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

struct Row {
  std::int64_t id;
  std::string dni;
  std::string name;
};

class SeededDatabase {
 public:
  explicit SeededDatabase(const std::filesystem::path& path) {
    const auto migrated = run_binary({"migrate"}, {{"DATABASE_URL", "sqlite:///" + path.string()}});
    if (migrated.exit_code != 0) throw std::runtime_error("migrate failed: " + migrated.err);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path.string());
    sqlite3_busy_timeout(db_, 5000);
  }
  SeededDatabase(const SeededDatabase&) = delete;
  SeededDatabase& operator=(const SeededDatabase&) = delete;
  SeededDatabase(SeededDatabase&&) = delete;
  SeededDatabase& operator=(SeededDatabase&&) = delete;
  ~SeededDatabase() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(sql + ": " + message);
    }
  }

  // Adds `count` users in one transaction; names carry quotes, a backslash
  // and non-ASCII text so that escaping across chunk boundaries is checked.
  void add_users(int count) {
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO api_user (dni, name) VALUES (?1, ?2)", -1, &insert, nullptr);
    for (int i = 0; i < count; ++i) {
      const std::string dni = fmt::format("s{}", next_++);
      const std::string name = "Zoë \"" + std::to_string(next_) + "\" \\ ñ";
      sqlite3_bind_text(insert, 1, dni.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, name.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(insert) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    exec("COMMIT");
  }

  std::vector<Row> rows() {
    std::vector<Row> out;
    sqlite3_stmt* select = nullptr;
    sqlite3_prepare_v2(db_, "SELECT id, dni, name FROM api_user ORDER BY id", -1, &select, nullptr);
    while (sqlite3_step(select) == SQLITE_ROW) {
      out.push_back({sqlite3_column_int64(select, 0), reinterpret_cast<const char*>(sqlite3_column_text(select, 1)),
                     reinterpret_cast<const char*>(sqlite3_column_text(select, 2))});
    }
    sqlite3_finalize(select);
    return out;
  }

  // The exact body the list must have.
  std::string expected_list() {
    std::string body = "[";
    for (const auto& row : rows()) {
      if (body.size() > 1) body += ',';
      body += R"({"id":)" + std::to_string(row.id) + R"(,"dni":")" + escape_json(row.dni) + R"(","name":")" +
              escape_json(row.name) + R"("})";
    }
    return body + "]";
  }

 private:
  sqlite3* db_ = nullptr;
  int next_ = 1;
};

void expect_list(HttpClient& client, SeededDatabase& db, std::size_t count, bool streamed) {
  SCOPED_TRACE(std::to_string(count) + " users");
  const auto response = client.get("/api/users/");
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(std::string(response[bhttp::field::content_type]), "application/json");
  if (streamed) {
    EXPECT_EQ(std::string(response[bhttp::field::transfer_encoding]), "chunked");
    EXPECT_EQ(response.count(bhttp::field::content_length), 0U);
  } else {
    EXPECT_EQ(response.count(bhttp::field::transfer_encoding), 0U);
    EXPECT_EQ(std::string(response[bhttp::field::content_length]), std::to_string(response.body().size()));
  }
  EXPECT_EQ(parse_list(response.body()).size(), count);
  EXPECT_TRUE(response.body() == db.expected_list())
      << "the body differs from the table, " << response.body().size() << " bytes";
}

TEST(Concurrency, ListsBeyondOnePageAreChunkedAsOneJsonArrayInIdOrder) {
  const auto dir = make_temp_dir();
  const auto path = dir / "list.sqlite3";
  SeededDatabase db(path);
  db.add_users(999);
  // The users are added to the file by this process, outside the server, and
  // each list must show them at once: with the cache on, another process's
  // commits are seen within 250 ms (api/list_cache.hpp, sqlite_cache_test.cpp).
  TestServer server(
      with_env({{"DATABASE_URL", "sqlite:///" + path.string()}, {"THREADS", "2"}, {"SQLITE_CACHE_USERS", "0"}}));
  HttpClient client(server.port());

  expect_list(client, db, 999, /*streamed=*/false);

  db.add_users(1);  // exactly one page: either framing, but one valid array
  {
    const auto response = client.get("/api/users/");
    EXPECT_EQ(parse_list(response.body()).size(), 1000U);
    EXPECT_TRUE(response.body() == db.expected_list());
  }

  db.add_users(1000);  // exactly two pages: the last page read is empty
  expect_list(client, db, 2000, /*streamed=*/true);

  // Gaps in the ids (every fourth user deleted) and one more page.
  db.exec("DELETE FROM api_user WHERE id % 4 = 0");
  db.add_users(1000);
  expect_list(client, db, 2500, /*streamed=*/true);

  // HEAD of a streamed list: the same headers, no body, and the connection
  // stays usable.
  const auto head = client.request("HEAD", "/api/users/");
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_TRUE(head.body().empty());
  const auto created = client.post_json("/api/users/", R"({"dni":"after-head","name":"Last"})");
  EXPECT_EQ(created.result_int(), 201) << created.body();
  expect_list(client, db, 2501, /*streamed=*/true);

  // Several clients streaming at once get identical bodies.
  const std::string expected = db.expected_list();
  std::vector<std::thread> threads;
  std::atomic<int> identical{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      HttpClient own(server.port());
      for (int i = 0; i < 3; ++i) {
        if (capture([&] { return own.get("/api/users/"); }).body == expected) ++identical;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(identical.load(), 12);
  server.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace users::testing
