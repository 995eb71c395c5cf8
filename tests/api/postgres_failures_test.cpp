// What a client and an operator see when PostgreSQL fails: down at start,
// restarted while serving, too slow, or fully busy; and the password, which
// must never show. Real clusters (some of the test's own, so that stopping
// one disturbs no other test), real processes.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {
namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

struct Answer {
  int status = -1;  // -1: no answer within the time limit
  std::string retry_after;
  std::string body;
};

// One request on a new connection, bounded in time: a hang is a failure,
// never a stuck test.
Answer ask(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body = {},
           milliseconds timeout = seconds(10)) {
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty()) {
    request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  }
  request += "Connection: close\r\n\r\n" + std::string(body);
  const auto raw = raw_exchange(port, request, timeout);
  const auto response = parse_response(raw);
  if (!response) return {};
  return {static_cast<int>(response->result_int()), std::string((*response)[bhttp::field::retry_after]),
          response->body()};
}

ServerOptions on(const std::string& url, std::map<std::string, std::string> extra = {}) {
  ServerOptions options;
  options.env = std::move(extra);
  options.env["DATABASE_URL"] = url;
  return options;
}

// Polls until `method target` answers `status`; the time it took, or nothing.
std::optional<milliseconds> until_status(std::uint16_t port, const std::string& target, int status,
                                         milliseconds limit) {
  const auto begun = Clock::now();
  while (Clock::now() - begun < limit) {
    if (ask(port, "GET", target, {}, seconds(5)).status == status) {
      return std::chrono::duration_cast<milliseconds>(Clock::now() - begun);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return std::nullopt;
}

std::size_t count_of(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST(PostgresFailures, DownAtStartTheServerListensThenServesWhenItComesUp) {
  PostgresCluster cluster;  // laid out, not started
  TestServer server(on(cluster.url()));
  const auto ready = ask(server.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("cannot connect to PostgreSQL"), std::string::npos) << ready.body;
  const auto list = ask(server.port(), "GET", "/api/users/");
  EXPECT_EQ(list.status, 503);
  EXPECT_EQ(list.retry_after, "1");
  EXPECT_EQ(ask(server.port(), "GET", "/healthz").status, 200);  // alive, only not ready

  std::this_thread::sleep_for(milliseconds(1500));  // several retries meanwhile
  EXPECT_EQ(count_of(server.stdout_text(), R"("msg":"database not ready, retrying")"), 1U)
      << "logged once per change of state, not per attempt";

  cluster.start();
  const auto took = until_status(server.port(), "/readyz", 200, seconds(15));
  ASSERT_TRUE(took) << server.stdout_text();
  EXPECT_LT(took->count(), 6000);  // the back-off tops out at 5 s
  EXPECT_EQ(ask(server.port(), "POST", "/api/users/", R"({"dni":"1","name":"Ana"})").status, 201);
  EXPECT_EQ(count_of(server.stdout_text(), R"("msg":"database ready")"), 1U);
}

TEST(PostgresFailures, ARestartGives503WhileDownThenServiceResumesByItself) {
  PostgresCluster cluster;
  cluster.start();
  TestServer server(on(cluster.url(), {{"THREADS", "2"}, {"DATABASE_STATEMENT_TIMEOUT", "3"}}));
  ASSERT_TRUE(until_status(server.port(), "/readyz", 200, seconds(15)));
  ASSERT_EQ(ask(server.port(), "POST", "/api/users/", R"({"dni":"1","name":"Ana"})").status, 201);
  HttpClient keep_alive(server.port());
  for (int i = 0; i < 4; ++i) ASSERT_EQ(keep_alive.get("/api/users/1/").result_int(), 200);  // both threads connected

  // A request in flight when the server stops: held by a lock, then cut off.
  // An immediate stop, so that it is cut: in a fast one PostgreSQL may end
  // the lock's holder first and grant the lock, and the request then
  // finishes with a 200 before its own backend ends (CI saw it under ASan).
  // The test clusters run with synchronous_commit off, so an immediate stop
  // would lose user 1 from the WAL buffers: a checkpoint writes it out first.
  PgConnection locker(cluster.url());
  locker.exec("CHECKPOINT");
  locker.exec("BEGIN; LOCK TABLE api_user IN ACCESS EXCLUSIVE MODE");
  auto in_flight = std::async(std::launch::async, [&] { return ask(server.port(), "GET", "/api/users/1/"); });
  std::this_thread::sleep_for(milliseconds(300));
  const auto stopping = Clock::now();
  cluster.crash();
  const auto cut = in_flight.get();
  EXPECT_EQ(cut.status, 503) << cut.body;
  EXPECT_EQ(cut.retry_after, "1");
  EXPECT_LT(Clock::now() - stopping, seconds(5));

  // Down: every answer is a prompt 503 with Retry-After, never a 500.
  for (const char* target : {"/api/users/", "/api/users/1/", "/readyz"}) {
    const auto begun = Clock::now();
    const auto answer = ask(server.port(), "GET", target);
    EXPECT_EQ(answer.status, 503) << target << " " << answer.body;
    EXPECT_LT(Clock::now() - begun, seconds(2)) << target;
  }
  EXPECT_EQ(ask(server.port(), "POST", "/api/users/", R"({"dni":"2","name":"Bea"})").retry_after, "1");
  EXPECT_EQ(keep_alive.get("/api/users/1/").result_int(), 503);

  cluster.start();
  const auto took = until_status(server.port(), "/api/users/1/", 200, seconds(15));
  ASSERT_TRUE(took) << server.stdout_text();
  EXPECT_LT(took->count(), 5000) << "service resumed, but slowly";
  // Every thread's connections came back, and the data survived.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ask(server.port(), "GET", "/api/users/1/").status, 200);
  EXPECT_EQ(ask(server.port(), "POST", "/api/users/", R"({"dni":"3","name":"Cid"})").status, 201);
  EXPECT_TRUE(server.running());
  const auto log = server.stdout_text();
  EXPECT_EQ(count_of(log, R"("msg":"database unreachable")"), 1U) << log;
  EXPECT_EQ(count_of(log, R"("msg":"database reachable again")"), 1U) << log;
}

// Every connection busy (held by a lock), each thread with one connection:
// requests wait at most DATABASE_POOL_TIMEOUT, then get 503 + Retry-After;
// the ones holding connections get 503 at the statement timeout. Never a
// 500, never a hang; and all is well once the lock goes.
TEST(PostgresFailures, AnExhaustedPoolAnswers503WithRetryAfterAndRecovers) {
  TestDatabase db;
  TestServer server(on(db.url(), {{"THREADS", "2"},
                                  {"DATABASE_POOL_SIZE", "2"},
                                  {"DATABASE_POOL_TIMEOUT", "0.2"},
                                  {"DATABASE_STATEMENT_TIMEOUT", "1"}}));
  ASSERT_TRUE(until_status(server.port(), "/readyz", 200, seconds(15)));
  ASSERT_EQ(ask(server.port(), "POST", "/api/users/", R"({"dni":"1","name":"Ana"})").status, 201);

  PgConnection locker(db.url());
  locker.exec("BEGIN; LOCK TABLE api_user IN ACCESS EXCLUSIVE MODE");
  constexpr int kRequests = 24;
  std::vector<std::future<std::pair<Answer, milliseconds>>> answers;
  for (int i = 0; i < kRequests; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      const auto begun = Clock::now();
      auto answer = ask(server.port(), "GET", "/api/users/1/");
      return std::pair{answer, std::chrono::duration_cast<milliseconds>(Clock::now() - begun)};
    }));
  }
  int quick = 0;
  for (auto& pending : answers) {
    const auto [answer, took] = pending.get();
    EXPECT_EQ(answer.status, 503) << answer.body;
    EXPECT_EQ(answer.retry_after, "1");
    EXPECT_LT(took.count(), 4000);
    if (took.count() < 900) ++quick;
  }
  EXPECT_GE(quick, kRequests - 4) << "most should give up after the 0.2 s pool wait, not the 1 s statement timeout";
  locker.exec("COMMIT");
  EXPECT_EQ(ask(server.port(), "GET", "/api/users/1/").status, 200);
  // Counted as busy (pool) and unavailable (statement timeout), apart.
  const auto metrics = ask(server.port(), "GET", "/metrics").body;
  std::smatch busy;
  ASSERT_TRUE(std::regex_search(metrics, busy, std::regex(R"(users_api_database_errors_total\{kind="busy"\} (\d+))")))
      << metrics;
  EXPECT_GE(std::stoi(busy[1]), kRequests - 4);
}

std::string random_password() {
  std::mt19937 random{std::random_device{}()};
  std::string password = "Pw";
  for (int i = 0; i < 18; ++i) password += "abcdefghijkmnpqrstuvwxyz23456789"[random() % 32];
  return password;
}

// Password authentication over TCP, then a search for the password in every
// output: logs, error bodies, /metrics, /readyz.
TEST(PostgresSecrets, ThePasswordAppearsNowhereAndTheUrlCanComeFromAFile) {
  const auto fixture = postgres_fixture_dir();
  if (fixture.empty()) GTEST_SKIP() << "needs the ctest fixture's cluster (TCP port), USERS_API_TEST_POSTGRES_DIR";
  std::ifstream port_file(fixture / "port");
  std::string port;
  port_file >> port;
  TestDatabase db;
  const std::string role = db.name() + "_role";
  const std::string password = random_password();
  {
    PgConnection admin(postgres_admin_url());
    admin.exec("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
    admin.exec("ALTER DATABASE " + db.name() + " OWNER TO " + role);
  }
  const std::string url = "postgres://" + role + ":" + password + "@127.0.0.1:" + port + "/" + db.name();
  std::string outputs;
  {
    TestServer server(on(url, {{"LOG_LEVEL", "debug"}}));
    ASSERT_TRUE(until_status(server.port(), "/readyz", 200, seconds(15))) << server.stdout_text();
    for (const auto& answer : {ask(server.port(), "POST", "/api/users/", R"({"dni":"1","name":"Ana"})"),
                               ask(server.port(), "POST", "/api/users/", R"({"dni":"1","name":"Ana"})"),
                               ask(server.port(), "GET", "/api/users/99/"), ask(server.port(), "GET", "/readyz"),
                               ask(server.port(), "GET", "/metrics"), ask(server.port(), "GET", "/api/users/")}) {
      EXPECT_NE(answer.status, -1);
      outputs += answer.body;
    }
    server.stop();
    outputs += server.stdout_text() + server.stderr_text();
    EXPECT_NE(server.stdout_text().find("postgres://" + role + ":***@127.0.0.1"), std::string::npos)
        << "the start-up line shows the URL redacted";
  }
  // A wrong password: refused, and neither password shows in the reason.
  {
    const std::string wrong = "postgres://" + role + ":" + password + "x@127.0.0.1:" + port + "/" + db.name();
    TestServer server(on(wrong));
    const auto deadline = Clock::now() + seconds(15);
    while (server.stdout_text().find("database not ready") == std::string::npos && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    const auto ready = ask(server.port(), "GET", "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.body.find("password authentication failed"), std::string::npos) << ready.body;
    outputs += ready.body + ask(server.port(), "GET", "/api/users/").body;
    server.stop();
    outputs += server.stdout_text() + server.stderr_text();
  }
  // `migrate` failing on a bad URL.
  const auto migrate = run_binary({"migrate"}, {{"DATABASE_URL", "postgres://u:" + password + "@[::1/db"}});
  EXPECT_EQ(migrate.exit_code, 2);
  outputs += migrate.out + migrate.err;
  EXPECT_EQ(outputs.find(password), std::string::npos) << outputs;

  // DATABASE_URL_FILE, with the trailing newline secrets usually have.
  const auto dir = make_temp_dir();
  {
    std::ofstream(dir / "database-url") << url << "\n";
    TestServer server(with_env({{"DATABASE_URL_FILE", (dir / "database-url").string()}}));
    ASSERT_TRUE(until_status(server.port(), "/readyz", 200, seconds(15))) << server.stdout_text();
    EXPECT_EQ(ask(server.port(), "GET", "/api/users/1/").status, 200);
    server.stop();
    EXPECT_EQ((server.stdout_text() + server.stderr_text()).find(password), std::string::npos);
  }
  const auto both =
      run_binary({"migrate"}, {{"DATABASE_URL", url}, {"DATABASE_URL_FILE", (dir / "database-url").string()}});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("users-api: DATABASE_URL_FILE: "), std::string::npos) << both.err;
  std::filesystem::remove_all(dir);
  PgConnection admin(postgres_admin_url());
  admin.exec("DROP DATABASE " + db.name() + " WITH (FORCE)");
  admin.exec("DROP ROLE " + role);
}

TEST(PostgresMigrate, AppliesOnceAndFailsWithOneClearLine) {
  TestDatabase db;
  const auto first = run_binary({"migrate"}, {{"DATABASE_URL", db.url()}});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find(R"("applied":["0001_create_api_user"])"), std::string::npos) << first.out;
  const auto second = run_binary({"migrate"}, {{"DATABASE_URL", db.url()}});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find(R"("applied":[])"), std::string::npos) << second.out;

  // Unreachable (nothing listens on port 1): say so, with the URL redacted.
  const auto unreachable = run_binary({"migrate"}, {{"DATABASE_URL", "postgres://app:s3cretpw@127.0.0.1:1/users"}});
  EXPECT_EQ(unreachable.exit_code, 2);
  EXPECT_EQ(unreachable.err.rfind(
                "users-api: DATABASE_URL: cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/users: ", 0),
            0U)
      << unreachable.err;
  EXPECT_EQ(count_of(unreachable.err, "\n"), 1U) << "one line";
  EXPECT_EQ(unreachable.err.find("s3cretpw"), std::string::npos);

  // A schema newer than the binary: refused.
  PgConnection(db.url()).exec("INSERT INTO users_api_migrations (version, name) VALUES (99, 'future')");
  const auto newer = run_binary({"migrate"}, {{"DATABASE_URL", db.url()}});
  EXPECT_EQ(newer.exit_code, 2);
  EXPECT_NE(newer.err.find("newer than this binary"), std::string::npos) << newer.err;
}

TEST(PostgresConfig, PoolSettingsAreCheckedAtStart) {
  const std::string url = "postgres://app@127.0.0.1:1/users";
  const auto too_small =
      run_binary({"migrate"}, {{"DATABASE_URL", url}, {"THREADS", "4"}, {"DATABASE_POOL_SIZE", "2"}});
  EXPECT_EQ(too_small.exit_code, 2);
  EXPECT_NE(too_small.err.find("users-api: DATABASE_POOL_SIZE: 2 is fewer than THREADS (4)"), std::string::npos)
      << too_small.err;
  for (const auto& [variable, value] :
       std::vector<std::pair<std::string, std::string>>{{"DATABASE_POOL_SIZE", "0"},
                                                        {"DATABASE_POOL_TIMEOUT", "soon"},
                                                        {"DATABASE_STATEMENT_TIMEOUT", "-1"},
                                                        {"DATABASE_CONNECT_TIMEOUT", "0"}}) {
    const auto bad = run_binary({"migrate"}, {{"DATABASE_URL", url}, {variable, value}});
    EXPECT_EQ(bad.exit_code, 2) << variable;
    EXPECT_EQ(bad.err.rfind("users-api: " + variable + ": ", 0), 0U) << bad.err;
  }
  const auto malformed = run_binary({"migrate"}, {{"DATABASE_URL", "postgresql://app:pw@db:notaport/users"}});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.err.rfind("users-api: DATABASE_URL: ", 0), 0U) << malformed.err;
}

}  // namespace
}  // namespace users::testing
