// The PostgreSQL backend against a real PostgreSQL (the ctest fixture's
// cluster, a fresh database per test). Suites named Postgres* run only where
// that cluster exists (the storage_pg.* entries).
#include "storage/postgres/postgres_store.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <signal.h>

#include <barrier>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "common/database_url.hpp"
#include "support/postgres.hpp"

namespace users::storage::postgres {
namespace {
namespace asio = boost::asio;
using Kind = StoreError::Kind;
using common::check_url;
using common::one_line;
using common::redact_url;
using common::scrub_secrets;
using std::chrono::milliseconds;
using users::testing::PgConnection;
using users::testing::TestDatabase;

PostgresOptions options_for(const std::string& url) {
  PostgresOptions options;
  options.url = url;
  options.redacted_url = redact_url(url);
  options.pool_size = 2;
  options.threads = 1;
  options.connect_timeout = std::chrono::seconds(5);
  return options;
}

// One io_context for the whole test: the store's connections belong to the
// io_context (and thread) that first used them.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void open(PostgresOptions options) {
    store_.reset();
    auto migrated = migrate(options);
    ASSERT_TRUE(migrated) << migrated.error();
    store_ = open_store(std::move(options));
    ASSERT_TRUE(store_->wait_until_ready(std::chrono::seconds(20)));
  }
  void SetUp() override { open(options_for(db_.url())); }
  void TearDown() override { store_.reset(); }

  template <typename T>
  T run(asio::awaitable<T> operation) {
    auto future = asio::co_spawn(io_, std::move(operation), asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }

  TestDatabase db_;
  asio::io_context io_{1};
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(PostgresStoreTest, TextIsUtf8AndLengthsCountCharacters) {
  const std::string dni = "ñññññññññññññ";  // 13 characters, 26 bytes
  const std::string name = "Zoë \"quoted\" \\ 日本 🙂";
  auto created = run(store_->create(dni, name));
  ASSERT_TRUE(created) << created.error().detail;
  auto found = run(store_->find(created->id));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->dni, dni);
  EXPECT_EQ((*found)->name, name);
  PgConnection check(db_.url());
  EXPECT_EQ(check.scalar("SELECT length(dni) FROM api_user"), "13");
}

TEST_F(PostgresStoreTest, NulNeverReachesPostgres) {
  const std::string with_nul("a\0b", 3);
  auto created = run(store_->create(with_nul, "x"));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, Kind::kInternal);
  auto exists = run(store_->dni_exists(with_nul, std::nullopt));  // no stored dni can hold one
  ASSERT_TRUE(exists);
  EXPECT_FALSE(*exists);
  domain::UserChanges changes;
  changes.name = with_nul;
  ASSERT_TRUE(run(store_->create("1", "x")));
  auto updated = run(store_->update(1, changes, domain::Precondition::any_user()));
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, Kind::kInternal);
  PgConnection check(db_.url());
  EXPECT_EQ(check.scalar("SELECT count(*) || ':' || max(name) FROM api_user"), "1:x");  // nothing cut short
}

// Several IO threads, each with its own io_context and so its own pool.
TEST_F(PostgresStoreTest, ThreadsEachUseTheirOwnConnections) {
  auto options = options_for(db_.url());
  options.threads = 4;
  options.pool_size = 4;
  open(options);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<domain::UserId>> ids(kThreads);
  // Each thread's io_context outlives the store, as the server's do.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (int t = 0; t < kThreads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context& io = *contexts[static_cast<std::size_t>(t)];
      auto work = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < kEach; ++i) {
          const std::string dni = fmt::format("t{}-{}", t, i);
          auto creating = store_->create(dni, "x");
          auto created = co_await std::move(creating);
          if (created) ids[static_cast<std::size_t>(t)].push_back(created->id);
        }
      };
      auto done = asio::co_spawn(io, work(), asio::use_future);
      io.run();
      done.get();
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<domain::UserId> all;
  for (const auto& list : ids) {
    EXPECT_EQ(list.size(), static_cast<std::size_t>(kEach));
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  PgConnection check(db_.url());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM api_user"), std::to_string(kThreads * kEach));
  // At most each thread's share of connections, all named users-api.
  EXPECT_LE(std::stoi(check.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db_.name() +
                                   "' AND application_name = 'users-api'")),
            4);
  store_.reset();
}

TEST_F(PostgresStoreTest, ConcurrentCreatesCommitTogetherAndEachDniWinsOnce) {
  // 60 creates started at once on one thread: the first runs alone, the rest
  // wait and go as multi-row INSERTs. Every dni is sent three times, and one
  // was stored before, so duplicates meet inside one INSERT and against the
  // table.
  ASSERT_TRUE(run(store_->create("d0", "stored before")));
  constexpr int kDnis = 20;
  constexpr int kCopies = 3;
  std::vector<StoreResult<domain::User>> outcomes(kDnis * kCopies, StoreError{Kind::kInternal, "not run"});
  auto all = [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    std::vector<std::future<void>> running;
    for (int copy = 0; copy < kCopies; ++copy) {
      for (int d = 0; d < kDnis; ++d) {
        // Everything as parameters: a coroutine lambda's captures die with
        // the lambda, before the coroutine runs.
        auto one = [](PostgresStore* store, std::string dni, std::string name,
                      StoreResult<domain::User>* outcome) -> asio::awaitable<void> {
          auto creating = store->create(std::move(dni), std::move(name));
          *outcome = co_await std::move(creating);
        };
        running.push_back(asio::co_spawn(executor,
                                         one(store_.get(), fmt::format("d{}", d), fmt::format("copy {}", copy),
                                             &outcomes[static_cast<std::size_t>(copy * kDnis + d)]),
                                         asio::use_future));
      }
    }
    co_return;
  };
  run(all());
  io_.restart();
  io_.run();

  std::set<domain::UserId> ids{1};
  for (int d = 0; d < kDnis; ++d) {
    int winners = 0;
    for (int copy = 0; copy < kCopies; ++copy) {
      const auto& outcome = outcomes[static_cast<std::size_t>(copy * kDnis + d)];
      if (outcome) {
        ++winners;
        EXPECT_EQ(outcome->dni, fmt::format("d{}", d));
        EXPECT_TRUE(ids.insert(outcome->id).second) << "id " << outcome->id << " handed out twice";
        auto stored = run(store_->find(outcome->id));
        ASSERT_TRUE(stored && stored->has_value());
        EXPECT_EQ((*stored)->name, outcome->name);
      } else {
        EXPECT_EQ(outcome.error().kind, Kind::kDniTaken) << outcome.error().detail;
      }
    }
    EXPECT_EQ(winners, d == 0 ? 0 : 1) << "dni d" << d;
  }
  PgConnection check(db_.url());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM api_user"), std::to_string(kDnis));
  // Rows of one INSERT share its transaction id: 20 users in a handful of
  // commits, not 20.
  EXPECT_LE(std::stoi(check.scalar("SELECT count(DISTINCT xmin::text) FROM api_user")), 5);
}

// --- migrations --------------------------------------------------------------

class PostgresMigrationTest : public ::testing::Test {
 protected:
  TestDatabase db_;
  PgConnection admin_{db_.url()};
};

TEST_F(PostgresMigrationTest, ConcurrentCallersApplyEachVersionOnce) {
  constexpr int kCallers = 6;
  std::barrier start(kCallers);
  std::vector<boost::system::result<MigrationReport, std::string>> reports(kCallers, std::string("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      reports[static_cast<std::size_t>(i)] = migrate(options_for(db_.url()));
    });
  }
  for (auto& thread : threads) thread.join();
  int applied = 0;
  for (const auto& report : reports) {
    ASSERT_TRUE(report) << report.error();
    applied += static_cast<int>(report->applied.size());
    EXPECT_EQ(report->version_after, 1);
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(admin_.scalar("SELECT count(*) FROM users_api_migrations"), "1");
  EXPECT_EQ(admin_.scalar("SELECT string_agg(version || ':' || name, ',') FROM users_api_migrations"),
            "1:create_api_user");
}

TEST_F(PostgresMigrationTest, AdoptsATableTheReferenceCreated) {
  // What Django 4's migrate creates for the reference's model.
  admin_.exec(
      "CREATE TABLE \"api_user\" (\"id\" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "
      "\"dni\" varchar(13) NOT NULL UNIQUE, \"name\" varchar(30) NOT NULL)");
  admin_.exec("INSERT INTO api_user (dni, name) VALUES ('777', 'Kept')");
  auto report = migrate(options_for(db_.url()));
  ASSERT_TRUE(report) << report.error();
  auto store = open_store(options_for(db_.url()));
  ASSERT_TRUE(store->wait_until_ready(std::chrono::seconds(20)));
  asio::io_context io;
  auto found = asio::co_spawn(io, store->find(1), asio::use_future);
  io.run();
  auto user = found.get();
  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->name, "Kept");
  store.reset();
}

TEST_F(PostgresMigrationTest, RefusesATableWithoutAUniqueDni) {
  admin_.exec("CREATE TABLE api_user (id bigserial PRIMARY KEY, dni varchar(13) NOT NULL, name varchar(30) NOT NULL)");
  auto report = migrate(options_for(db_.url()));
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("no unique index on dni"), std::string::npos) << report.error();
  // Rolled back: nothing recorded, so a fixed table is migrated later.
  EXPECT_EQ(admin_.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'users_api_migrations'"), "0");
}

TEST_F(PostgresMigrationTest, RefusesASchemaNewerThanTheBinary) {
  ASSERT_TRUE(migrate(options_for(db_.url())));
  admin_.exec("INSERT INTO users_api_migrations (version, name) VALUES (99, 'from_the_future')");
  auto report = migrate(options_for(db_.url()));
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("newer than this binary"), std::string::npos) << report.error();

  // A store refuses it too, and says why.
  auto store = open_store(options_for(db_.url()));
  EXPECT_FALSE(store->wait_until_ready(milliseconds(500)));
  asio::io_context io;
  auto pinged = asio::co_spawn(io, store->ping(), asio::use_future);
  io.run();
  auto ping = pinged.get();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().kind, Kind::kUnavailable);
  EXPECT_NE(ping.error().detail.find("newer than this binary"), std::string::npos) << ping.error().detail;
  store.reset();
}

// --- limits: pool, waiting queue, statement timeouts -------------------------

// A store driven from its own IO thread while the test thread holds locks.
class PostgresLimitsTest : public ::testing::Test {
 protected:
  void start(PostgresOptions options) {
    ASSERT_TRUE(migrate(options));
    store_ = open_store(std::move(options));
    ASSERT_TRUE(store_->wait_until_ready(std::chrono::seconds(20)));
    thread_ = std::thread([this] { io_.run(); });
    // A write and a read: each lane opens its connection on first use, and
    // the tests below hold locks that a new connection's PREPAREs would
    // wait for.
    ASSERT_TRUE(get(store_->create("1", "Ana")));
    ASSERT_TRUE(get(store_->find(1)));
  }
  void TearDown() override {
    work_.reset();
    if (thread_.joinable()) thread_.join();
    store_.reset();
  }
  template <typename T>
  std::future<T> spawn(asio::awaitable<T> operation) {
    return asio::co_spawn(io_, std::move(operation), asio::use_future);
  }
  template <typename T>
  T get(asio::awaitable<T> operation) {
    auto future = spawn(std::move(operation));
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) throw std::runtime_error("hung");
    return future.get();
  }

  TestDatabase db_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(PostgresLimitsTest, ABusyPoolAnswersBusyAfterTheWaitLimitAndTheQueueIsBounded) {
  auto options = options_for(db_.url());
  options.pool_size = 1;
  options.pool_timeout = milliseconds(300);
  options.statement_timeout = std::chrono::seconds(10);
  start(options);

  PgConnection locker(db_.url());
  locker.exec("BEGIN; LOCK TABLE api_user IN ACCESS EXCLUSIVE MODE");
  auto holder = spawn(store_->find(1));  // takes the only connection, waits on the lock
  std::this_thread::sleep_for(milliseconds(100));

  // 32 may wait (32 per connection); the rest are refused at once.
  std::vector<std::future<StoreResult<std::optional<domain::User>>>> waiters;
  const auto begun = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) waiters.push_back(spawn(store_->find(1)));
  int refused_at_once = 0;
  int busy = 0;
  for (auto& waiter : waiters) {
    ASSERT_EQ(waiter.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    auto result = waiter.get();
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, Kind::kBusy) << result.error().detail;
    ++busy;
    if (result.error().detail.find("already wait") != std::string::npos) ++refused_at_once;
  }
  const auto waited = std::chrono::steady_clock::now() - begun;
  EXPECT_EQ(busy, 40);
  EXPECT_EQ(refused_at_once, 8);
  EXPECT_GE(waited, milliseconds(300));  // the others waited the limit, no longer than needed
  EXPECT_LT(waited, std::chrono::seconds(3));

  locker.exec("COMMIT");
  ASSERT_EQ(holder.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto held = holder.get();
  ASSERT_TRUE(held) << held.error().detail;
  EXPECT_TRUE(held->has_value());
  EXPECT_TRUE(get(store_->find(1)));  // the pool is whole again
}

TEST_F(PostgresLimitsTest, AReleasedConnectionIsHandedToAWaiter) {
  auto options = options_for(db_.url());
  options.pool_size = 1;
  options.pool_timeout = std::chrono::seconds(5);
  start(options);
  PgConnection locker(db_.url());
  locker.exec("BEGIN; LOCK TABLE api_user IN ACCESS EXCLUSIVE MODE");
  auto first = spawn(store_->find(1));
  std::this_thread::sleep_for(milliseconds(100));
  auto second = spawn(store_->find(1));  // waits for the connection
  std::this_thread::sleep_for(milliseconds(100));
  locker.exec("COMMIT");
  ASSERT_EQ(first.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(second.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(first.get());
  EXPECT_TRUE(second.get());
}

TEST_F(PostgresLimitsTest, TheServersStatementTimeoutAnswersUnavailableAndKeepsTheConnection) {
  auto options = options_for(db_.url());
  options.statement_timeout = milliseconds(300);
  start(options);
  PgConnection locker(db_.url());
  locker.exec("BEGIN; LOCK TABLE api_user IN ACCESS EXCLUSIVE MODE");
  const auto begun = std::chrono::steady_clock::now();
  auto blocked = get(store_->find(1));
  const auto took = std::chrono::steady_clock::now() - begun;
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().kind, Kind::kUnavailable) << blocked.error().detail;
  EXPECT_NE(blocked.error().detail.find("statement timeout"), std::string::npos) << blocked.error().detail;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(3000));
  locker.exec("COMMIT");
  EXPECT_TRUE(get(store_->find(1)));
}

// Reads have a connection of their own: a write waiting for a row lock
// (or for its commit's flush) holds no read up, even with one connection
// per thread for writes.
TEST_F(PostgresLimitsTest, AReadNeverWaitsBehindAWriteThatWaitsForALock) {
  auto options = options_for(db_.url());
  options.pool_size = 1;
  options.pool_timeout = std::chrono::seconds(5);
  start(options);
  PgConnection locker(db_.url());
  locker.exec("BEGIN; SELECT * FROM api_user WHERE id = 1 FOR UPDATE");
  auto writing =
      spawn(store_->update(1, domain::UserChanges{std::nullopt, std::string("Bea")}, domain::Precondition::any_user()));
  std::this_thread::sleep_for(milliseconds(100));
  const auto begun = std::chrono::steady_clock::now();
  auto read = get(store_->find(1));
  const auto took = std::chrono::steady_clock::now() - begun;
  ASSERT_TRUE(read) << read.error().detail;
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->name, "Ana");  // the committed row
  EXPECT_LT(took, milliseconds(500));
  EXPECT_EQ(writing.wait_for(milliseconds(0)), std::future_status::timeout) << "the write should still wait";
  locker.exec("COMMIT");
  ASSERT_EQ(writing.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto written = writing.get();
  ASSERT_TRUE(written) << written.error().detail;
  EXPECT_EQ(written->name, "Bea");
}

// A server that answers nothing (its backends stopped, as a network cut
// would look): the client-side deadline closes the connection; the next call
// reconnects.
TEST_F(PostgresLimitsTest, TheClientDeadlineClosesAConnectionThatNeverAnswers) {
  auto options = options_for(db_.url());
  options.pool_size = 1;
  options.statement_timeout = milliseconds(300);
  start(options);
  PgConnection admin(db_.url());
  // Every backend of the store: the read and the write connection.
  std::vector<int> backends;
  std::istringstream pids(admin.scalar("SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '" +
                                       db_.name() + "' AND application_name = 'users-api'"));
  for (int pid = 0; pids >> pid;) backends.push_back(pid);
  ASSERT_EQ(backends.size(), 2U);
  for (const int backend : backends) ASSERT_EQ(::kill(backend, SIGSTOP), 0);
  const auto begun = std::chrono::steady_clock::now();
  auto stalled = get(store_->find(1));
  const auto took = std::chrono::steady_clock::now() - begun;
  for (const int backend : backends) ::kill(backend, SIGCONT);
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error().kind, Kind::kUnavailable) << stalled.error().detail;
  EXPECT_NE(stalled.error().detail.find("no answer from PostgreSQL"), std::string::npos) << stalled.error().detail;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(3000));
  auto after = get(store_->find(1));
  ASSERT_TRUE(after) << after.error().detail;
  EXPECT_TRUE(after->has_value());
}

// --- secrets -----------------------------------------------------------------

TEST(PostgresSecrets, ThePasswordStaysOutOfErrors) {
  const std::string password = "Xy7-secret-Pw";
  // Nothing listens on port 1: the connection is refused at once.
  auto options = options_for("postgresql://someone:" + password + "@127.0.0.1:1/users");
  auto report = migrate(options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().find(password), std::string::npos) << report.error();
  EXPECT_NE(report.error().find("postgresql://someone:***@127.0.0.1:1/users"), std::string::npos) << report.error();

  auto store = open_store(options);
  asio::io_context io;
  std::this_thread::sleep_for(milliseconds(200));
  auto pinged = asio::co_spawn(io, store->ping(), asio::use_future);
  io.run();
  auto ping = pinged.get();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().kind, Kind::kUnavailable);
  EXPECT_EQ(ping.error().detail.find(password), std::string::npos) << ping.error().detail;
  store.reset();
}

TEST(DatabaseUrlSecrets, RedactsAndScrubsEveryForm) {
  EXPECT_EQ(redact_url("postgres://app:s3cret@db:5432/users"), "postgres://app:***@db:5432/users");
  EXPECT_EQ(redact_url("postgresql://app@h1:5432,h2:5433/users?password=s3cret&sslmode=require"),
            "postgresql://app@h1:5432,h2:5433/users?password=***&sslmode=require");
  EXPECT_EQ(redact_url("postgresql://app:p%40ss@db/users"), "postgresql://app:***@db/users");
  EXPECT_EQ(redact_url("postgresql:///users?host=/run/pg"), "postgresql:///users?host=/run/pg");
  const std::string url = "postgresql://app:p%40ss@db/users";
  EXPECT_EQ(scrub_secrets("got p@ss and p%40ss in " + url, url), "got *** and *** in postgresql://app:***@db/users");
  // libpq quotes a URL it cannot parse: the message must not carry it.
  const auto refused = check_url("postgresql://app:hunter2secret@[::1/users");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().find("hunter2secret"), std::string::npos) << refused.error();
  EXPECT_EQ(one_line("a\n\tb  c\n"), "a b c");
}

}  // namespace
}  // namespace users::storage::postgres
