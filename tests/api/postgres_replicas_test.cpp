// Several replicas, one PostgreSQL database: what users-api exists to do
// better than the reference (whose replicas each had their own SQLite file).
// Real processes, a real cluster, real SIGKILL.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <barrier>
#include <boost/json/parse.hpp>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

constexpr std::string_view kUserAlreadyExists = R"({"detail":"User already exists"})";

ServerOptions replica_of(const TestDatabase& db, std::map<std::string, std::string> extra = {}) {
  ServerOptions options;
  options.env = std::move(extra);
  options.env["DATABASE_URL"] = db.url();
  return options;
}

// A server started on an explicit DATABASE_URL migrates in the background;
// it serves once /readyz says so.
void wait_ready(const TestServer& server) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (server.stdout_text().find(R"("msg":"database ready")") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "replica never became ready: " << server.stdout_text() << server.stderr_text();
}

TEST(PostgresReplicas, AWriteThroughOneIsSeenThroughTheOtherAtOnce) {
  TestDatabase db;
  TestServer a(replica_of(db));
  TestServer b(replica_of(db));
  wait_ready(a);
  wait_ready(b);
  HttpClient to_a(a.port());
  HttpClient to_b(b.port());

  const auto created = to_a.post_json("/api/users/", R"({"dni":"42","name":"Ana"})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  const auto id = boost::json::parse(created.body()).as_object().at("id").as_int64();
  const std::string item = fmt::format("/api/users/{}/", id);

  const auto read = to_b.get(item);
  EXPECT_EQ(read.result_int(), 200);
  EXPECT_EQ(read.body(), created.body());
  const auto updated = to_b.put_json(item, R"({"dni":"42","name":"Bea"})");
  EXPECT_EQ(updated.result_int(), 200) << updated.body();
  EXPECT_EQ(to_a.get(item).body(), updated.body());
  const auto patched = to_a.patch_json(item, R"({"name":"Cid"})");
  EXPECT_EQ(patched.result_int(), 200);
  EXPECT_EQ(to_b.get(item).body(), patched.body());
  // The unique dni holds across replicas.
  const auto duplicate = to_b.post_json("/api/users/", R"({"dni":"42","name":"Dup"})");
  EXPECT_EQ(duplicate.result_int(), 400);
  EXPECT_EQ(duplicate.body(), kUserAlreadyExists);

  EXPECT_EQ(to_b.del(item).result_int(), 204);
  EXPECT_EQ(to_a.get(item).result_int(), 404);
  EXPECT_EQ(to_a.del(item).result_int(), 404);
}

// Each replica keeps the list's JSON while PostgreSQL's snapshot stays the
// same (api/list_cache.hpp). A write through the other replica, or straight
// into the database, is in the very next list, while readers on other
// connections keep the list kept and re-rendered all along.
TEST(PostgresReplicas, EveryWriteElsewhereIsInTheOtherReplicasNextList) {
  TestDatabase db;
  TestServer a(replica_of(db));
  TestServer b(replica_of(db));
  wait_ready(a);
  wait_ready(b);
  HttpClient writer(a.port());
  ASSERT_EQ(writer.post_json("/api/users/", R"({"dni":"keep","name":"k"})").result_int(), 201);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      HttpClient client(b.port());
      while (!done.load()) (void)client.get("/api/users/");
    });
  }
  HttpClient checker(b.port());
  PgConnection direct(db.url());
  // Failures are added, not asserted: the readers must be joined either way.
  auto one_round = [&](int round) -> std::string {
    const auto created = writer.post_json("/api/users/", fmt::format(R"({{"dni":"d{}","name":"c{}"}})", round, round));
    if (created.result_int() != 201) return "POST answered " + created.body();
    const auto id = boost::json::parse(created.body()).as_object().at("id").as_int64();
    const auto item = fmt::format("/api/users/{}/", id);
    auto seen = users_of(checker.get("/api/users/"));
    if (seen != fmt::format("1:k,{}:c{}", id, round)) return "after POST through a: " + seen;
    if (writer.patch_json(item, R"({"name":"p"})").result_int() != 200) return "PATCH failed";
    seen = users_of(checker.get("/api/users/"));
    if (seen != fmt::format("1:k,{}:p", id)) return "after PATCH through a: " + seen;
    direct.exec(fmt::format("UPDATE api_user SET name = 'x' WHERE id = {}", id));
    seen = users_of(checker.get("/api/users/"));
    if (seen != fmt::format("1:k,{}:x", id)) return "after an UPDATE from outside: " + seen;
    if (writer.del(item).result_int() != 204) return "DELETE failed";
    seen = users_of(checker.get("/api/users/"));
    if (seen != "1:k") return "after DELETE through a: " + seen;
    return {};
  };
  for (int round = 1; round <= 60; ++round) {
    if (const auto problem = one_round(round); !problem.empty()) {
      ADD_FAILURE() << "round " << round << " " << problem;
      break;
    }
  }
  done.store(true);
  for (auto& reader : readers) reader.join();
}

TEST(PostgresReplicas, RacingCreatesOfOneDniAcrossReplicasHaveOneWinner) {
  TestDatabase db;
  TestServer a(replica_of(db, {{"THREADS", "2"}}));
  TestServer b(replica_of(db, {{"THREADS", "2"}}));
  wait_ready(a);
  wait_ready(b);
  constexpr std::size_t kClients = 8;  // half on each replica
  constexpr std::size_t kRounds = 6;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<HttpClient>(i % 2 == 0 ? a.port() : b.port()));
    ASSERT_EQ(clients.back()->get("/api/").result_int(), 200);
  }
  std::vector<std::vector<std::pair<int, std::string>>> outcomes(kRounds,
                                                                 std::vector<std::pair<int, std::string>>(kClients));
  std::barrier sync(static_cast<std::ptrdiff_t>(kClients));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        const std::string body = fmt::format(R"({{"dni":"race{}","name":"t{}"}})", round, t);
        try {
          const auto response = clients[t]->post_json("/api/users/", body);
          outcomes[round][t] = {static_cast<int>(response.result_int()), response.body()};
        } catch (const std::exception& e) {
          outcomes[round][t] = {-1, e.what()};
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    int created = 0;
    for (const auto& [status, body] : outcomes[round]) {
      if (status == 201) {
        ++created;
        continue;
      }
      EXPECT_EQ(status, 400) << body;
      // The handler's check or the unique index: either way the contract's 400.
      EXPECT_TRUE(body == kUserAlreadyExists || body == R"({"dni":["user with this dni already exists."]})") << body;
    }
    EXPECT_EQ(created, 1);
  }
  PgConnection check(db.url());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM api_user"), std::to_string(kRounds));
}

// Writers on both replicas; A dies by SIGKILL mid-stream. Whatever either
// replica acknowledged with a 201 is in the database, with the id it was
// given, and B never stopped serving.
TEST(PostgresReplicas, KillNineUnderLoadLosesNoAcknowledgedWrite) {
  TestDatabase db;
  auto a = std::make_unique<TestServer>(replica_of(db, {{"THREADS", "2"}}));
  TestServer b(replica_of(db, {{"THREADS", "2"}}));
  wait_ready(*a);
  wait_ready(b);

  std::mutex mutex;
  std::map<std::string, std::int64_t> acknowledged;  // dni -> id
  std::atomic<bool> killed{false};
  std::atomic<int> b_after_kill{0};
  std::atomic<int> b_failures_after_kill{0};
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  auto writer = [&](std::uint16_t port, bool on_b, int number) {
    HttpClient client(port);
    for (int i = 0; std::chrono::steady_clock::now() < stop_at; ++i) {
      const std::string dni = fmt::format("w{}-{}", number, i);
      const bool after_kill = killed.load();
      try {
        const auto response = client.post_json("/api/users/", R"({"dni":")" + dni + R"(","name":"load"})");
        if (response.result_int() == 201) {
          const auto id = boost::json::parse(response.body()).as_object().at("id").as_int64();
          const std::lock_guard lock(mutex);
          acknowledged[dni] = id;
          if (on_b && after_kill) ++b_after_kill;
        } else if (on_b && after_kill) {
          ++b_failures_after_kill;
        }
      } catch (const std::exception&) {
        if (!on_b) return;  // A is gone: this writer's replica died
        if (after_kill) ++b_failures_after_kill;
      }
    }
  };
  std::vector<std::thread> writers;
  const auto a_port = a->port();
  for (int n = 0; n < 4; ++n) writers.emplace_back(writer, n % 2 == 0 ? a_port : b.port(), n % 2 == 1, n);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  killed = true;
  EXPECT_EQ(a->stop(SIGKILL), 128 + SIGKILL);
  for (auto& thread : writers) thread.join();

  EXPECT_GT(b_after_kill.load(), 0) << "B served nothing after A died";
  EXPECT_EQ(b_failures_after_kill.load(), 0);
  ASSERT_GT(acknowledged.size(), 10U);
  PgConnection check(db.url());
  std::map<std::string, std::int64_t> stored;
  for (const auto& row : check.query("SELECT dni, id FROM api_user")) stored[*row[0]] = std::stoll(*row[1]);
  std::size_t missing = 0;
  for (const auto& [dni, id] : acknowledged) {
    const auto found = stored.find(dni);
    if (found == stored.end() || found->second != id) ++missing;
  }
  EXPECT_EQ(missing, 0U) << "of " << acknowledged.size() << " acknowledged writes";
  HttpClient after(b.port());
  EXPECT_EQ(after.get("/api/users/").result_int(), 200);
}

// Two replicas started at the same instant on an empty database, five times:
// the advisory lock lets one apply the schema and the other find it done.
TEST(PostgresReplicas, TwoReplicasStartingTogetherMigrateOnce) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    SCOPED_TRACE(fmt::format("attempt {}", attempt));
    TestDatabase db;
    std::unique_ptr<TestServer> a;
    std::unique_ptr<TestServer> b;
    std::barrier together(2);
    std::thread start_a([&] {
      together.arrive_and_wait();
      a = std::make_unique<TestServer>(replica_of(db));
    });
    std::thread start_b([&] {
      together.arrive_and_wait();
      b = std::make_unique<TestServer>(replica_of(db));
    });
    start_a.join();
    start_b.join();
    ASSERT_TRUE(a && b);
    wait_ready(*a);
    wait_ready(*b);
    PgConnection check(db.url());
    EXPECT_EQ(check.scalar("SELECT count(*) || '/' || count(DISTINCT version) FROM users_api_migrations"), "1/1");
    HttpClient to_a(a->port());
    HttpClient to_b(b->port());
    EXPECT_EQ(to_a.post_json("/api/users/", R"({"dni":"1","name":"A"})").result_int(), 201);
    EXPECT_EQ(to_b.get("/api/users/1/").result_int(), 200);
    // Exactly one of them applied the migration; the other found it done.
    const int appliers = (a->stdout_text().find("applied 0001_create_api_user") != std::string::npos ? 1 : 0) +
                         (b->stdout_text().find("applied 0001_create_api_user") != std::string::npos ? 1 : 0);
    EXPECT_EQ(appliers, 1);
  }
}

}  // namespace
}  // namespace users::testing
