// The read pipeline against a real PostgreSQL: order, batching, and a
// failure that stays with its own read.
#include "storage/postgres/pipeline.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/database_url.hpp"
#include "storage/postgres/rows.hpp"
#include "support/postgres.hpp"

namespace users::storage::postgres {
namespace {
namespace asio = boost::asio;
using Kind = StoreError::Kind;
using std::chrono::milliseconds;
using users::testing::PgConnection;
using users::testing::TestDatabase;

// Each read answers its own number doubled, and the start of the transaction
// it ran in: reads behind one Sync share one implicit transaction, so one
// now() per batch.
constexpr const char* kDouble = "SELECT $1::bigint * 2, now()::text";

struct Outcome {
  std::int64_t doubled = 0;
  std::string batch;
  std::optional<StoreError> error;
};

class PostgresPipeline : public ::testing::Test {
 protected:
  void open(milliseconds statement_timeout, milliseconds queue_timeout) {
    settings_ = std::make_shared<const ConnectionSettings>(
        ConnectionSettings{db_.url(), common::redact_url(db_.url()), std::chrono::seconds(5), statement_timeout});
    connector_ = std::make_unique<Connector>(
        settings_, fmt::format("SET statement_timeout = {}", statement_timeout.count()), health_);
    pipeline_ =
        std::make_unique<ReadPipeline>(io_.get_executor(), settings_, PipelineOptions{256, queue_timeout}, *connector_);
  }
  void TearDown() override {
    pipeline_.reset();
    connector_.reset();
  }

  // Starts one read per SQL text, all in one turn of the loop, and runs the
  // loop until every one is answered.
  std::vector<Outcome> run_together(const std::vector<std::string>& sqls) {
    std::vector<Outcome> outcomes(sqls.size());
    numbers_.clear();
    params_.clear();
    for (std::size_t i = 0; i < sqls.size(); ++i) numbers_.push_back(std::to_string(i));
    for (const auto& number : numbers_) params_.push_back({number.c_str()});
    std::vector<std::future<void>> done;
    for (std::size_t i = 0; i < sqls.size(); ++i) {
      done.push_back(
          asio::co_spawn(io_, one(pipeline_.get(), sqls[i].c_str(), params_[i], &outcomes[i]), asio::use_future));
    }
    io_.restart();
    io_.run();
    for (auto& each : done) each.get();
    return outcomes;
  }

  static asio::awaitable<void> one(ReadPipeline* pipeline, const char* sql, std::span<const char* const> params,
                                   Outcome* outcome) {
    auto reading = pipeline->run(Read{nullptr, sql, params});
    auto result = co_await std::move(reading);
    if (!result) {
      outcome->error = result.error();
      co_return;
    }
    auto doubled = int_at(result->get(), 0, 0);
    outcome->doubled = doubled ? *doubled : -1;
    outcome->batch = std::string(text_at(result->get(), 0, 1));
  }

  TestDatabase db_;
  asio::io_context io_{1};
  Health health_{[](bool, std::string_view) {}};
  std::shared_ptr<const ConnectionSettings> settings_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<ReadPipeline> pipeline_;
  std::vector<std::string> numbers_;
  std::vector<std::array<const char*, 1>> params_;
};

TEST_F(PostgresPipeline, ReadsOfOneTurnGoTogetherAndEachGetsItsOwnAnswer) {
  open(std::chrono::seconds(5), std::chrono::seconds(5));
  constexpr std::size_t kReads = 200;
  const auto outcomes = run_together(std::vector<std::string>(kReads, kDouble));
  std::set<std::string> batches;
  for (std::size_t i = 0; i < kReads; ++i) {
    ASSERT_FALSE(outcomes[i].error) << i << ": " << outcomes[i].error->detail;
    EXPECT_EQ(outcomes[i].doubled, static_cast<std::int64_t>(2 * i)) << "read " << i << " got another's answer";
    batches.insert(outcomes[i].batch);
  }
  // One turn, one Sync: one transaction for all of them (a statement each
  // would be 200).
  EXPECT_EQ(batches.size(), 1U);

  // And again on the same connection, as a new batch.
  const auto again = run_together(std::vector<std::string>(3, kDouble));
  for (std::size_t i = 0; i < again.size(); ++i) {
    ASSERT_FALSE(again[i].error) << again[i].error->detail;
    EXPECT_EQ(again[i].doubled, static_cast<std::int64_t>(2 * i));
    EXPECT_EQ(batches.count(again[i].batch), 0U);
  }
}

TEST_F(PostgresPipeline, AFailedReadFailsAloneAndTheReadsItsFailureSkippedRunAgain) {
  open(std::chrono::seconds(5), std::chrono::seconds(5));
  std::vector<std::string> sqls(10, kDouble);
  sqls[4] = "SELECT 1 / ($1::bigint - 4), now()::text";  // division by zero for read 4
  const auto outcomes = run_together(sqls);
  ASSERT_TRUE(outcomes[4].error);
  EXPECT_EQ(outcomes[4].error->kind, Kind::kInternal);
  EXPECT_NE(outcomes[4].error->detail.find("division by zero"), std::string::npos) << outcomes[4].error->detail;
  for (std::size_t i = 0; i < sqls.size(); ++i) {
    if (i == 4) continue;
    ASSERT_FALSE(outcomes[i].error) << i << ": " << outcomes[i].error->detail;
    EXPECT_EQ(outcomes[i].doubled, static_cast<std::int64_t>(2 * i));
  }
  // Those before the failure ran in the first batch; those after it were
  // skipped by the server, then sent again in a batch of their own.
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(outcomes[i].batch, outcomes[0].batch);
  for (std::size_t i = 5; i < sqls.size(); ++i) {
    EXPECT_NE(outcomes[i].batch, outcomes[0].batch) << i;
    EXPECT_EQ(outcomes[i].batch, outcomes[5].batch) << i;
  }
}

// A read the server's statement timeout ends, with another behind it: that
// one would run into the same wait. The connection is dropped, and the read
// behind goes again on a new one, where it succeeds once the lock is gone.
TEST_F(PostgresPipeline, AStatementTimeoutAtTheHeadSendsTheReadsBehindItAgain) {
  PgConnection setup(db_.url());
  setup.exec("CREATE TABLE held (n bigint)");
  open(milliseconds(300), std::chrono::seconds(5));
  ASSERT_FALSE(run_together({kDouble})[0].error);  // connected before the lock

  PgConnection locker(db_.url());
  locker.exec("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE");
  auto unlock = std::async(std::launch::async, [&locker] {
    std::this_thread::sleep_for(milliseconds(450));
    locker.exec("COMMIT");
  });
  const auto begun = std::chrono::steady_clock::now();
  const auto outcomes = run_together({"SELECT count(*) + $1::bigint, now()::text FROM held",
                                      "SELECT count(*) + $1::bigint * 2, now()::text FROM held"});
  const auto took = std::chrono::steady_clock::now() - begun;
  unlock.get();
  ASSERT_TRUE(outcomes[0].error);
  EXPECT_EQ(outcomes[0].error->kind, Kind::kUnavailable);
  EXPECT_NE(outcomes[0].error->detail.find("statement timeout"), std::string::npos) << outcomes[0].error->detail;
  ASSERT_FALSE(outcomes[1].error) << outcomes[1].error->detail;
  EXPECT_EQ(outcomes[1].doubled, 2);
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace users::storage::postgres
