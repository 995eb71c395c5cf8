#include "storage/postgres/create_batcher.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "storage/postgres/rows.hpp"
#include "storage/postgres/statements.hpp"

namespace users::storage::postgres {
namespace asio = boost::asio;
using domain::UserId;
using Kind = StoreError::Kind;

namespace {

constexpr std::size_t kMaxCreatesPerInsert = 256;
constexpr std::size_t kMaxWaitingCreatesPerThread = 1024;

// Takes a create that was never run out of the queue if its frame goes away
// (its coroutine destroyed with the io_context at exit).
class WaitingCreate {
 public:
  WaitingCreate(std::deque<CreateBatcher::Pending*>& waiting, CreateBatcher::Pending& pending)
      : waiting_(waiting), pending_(pending) {
    waiting_.push_back(&pending_);
  }
  WaitingCreate(const WaitingCreate&) = delete;
  WaitingCreate& operator=(const WaitingCreate&) = delete;
  WaitingCreate(WaitingCreate&&) = delete;
  WaitingCreate& operator=(WaitingCreate&&) = delete;
  ~WaitingCreate() {
    if (pending_.taken) return;
    if (const auto it = std::find(waiting_.begin(), waiting_.end(), &pending_); it != waiting_.end()) {
      waiting_.erase(it);
    }
  }

 private:
  std::deque<CreateBatcher::Pending*>& waiting_;
  CreateBatcher::Pending& pending_;
};

// "INSERT ... SELECT ... FROM (VALUES ($1, $2), ($3, $4), ...) WHERE NOT
// EXISTS ... ON CONFLICT (dni) DO NOTHING RETURNING id, dni" for `rows`
// users. A dni already stored returns no row and draws no id (see
// kInsertUser); a dni twice in the list is kept once, by ON CONFLICT; a
// duplicate id (a sequence behind rows inserted by hand) still fails the
// statement, as a 500.
std::string insert_many_sql(std::size_t rows) {
  std::string sql = "INSERT INTO api_user (dni, name) SELECT v.dni, v.name FROM (VALUES ";
  for (std::size_t row = 0; row < rows; ++row) {
    sql += fmt::format("{}(${}::varchar, ${}::varchar)", row == 0 ? "" : ", ", 2 * row + 1, 2 * row + 2);
  }
  sql +=
      ") AS v (dni, name) WHERE NOT EXISTS (SELECT 1 FROM api_user u WHERE u.dni = v.dni) "
      "ON CONFLICT (dni) DO NOTHING RETURNING id, dni";
  return sql;
}

}  // namespace

asio::awaitable<StoreResult<UserId>> CreateBatcher::create(const std::string& dni, const std::string& name) {
  if (waiting_.size() >= kMaxWaitingCreatesPerThread) {
    co_return StoreError{Kind::kBusy, fmt::format("{} creates already wait on this thread", waiting_.size())};
  }
  asio::steady_timer wake(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  Pending self{&dni, &name, &wake, false, std::nullopt};
  const WaitingCreate waiting(waiting_, self);
  while (!self.outcome) {
    if (!running_) {
      auto running = run_front();
      co_await std::move(running);
    } else {
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  co_return std::move(*self.outcome);
}

// Runs the creates at the front of the queue as one INSERT, hands each its
// outcome, and wakes them and the next in line (the next to run one).
asio::awaitable<void> CreateBatcher::run_front() {
  running_ = true;
  std::vector<Pending*> batch;
  while (!waiting_.empty() && batch.size() < kMaxCreatesPerInsert) {
    batch.push_back(waiting_.front());
    batch.back()->taken = true;
    waiting_.pop_front();
  }
  auto inserting = insert(batch);
  co_await std::move(inserting);
  running_ = false;
  for (Pending* pending : batch) pending->wake->cancel();
  if (!waiting_.empty()) waiting_.front()->wake->cancel();
}

// Sets the outcome of every create in `batch`.
asio::awaitable<void> CreateBatcher::insert(const std::vector<Pending*>& batch) {
  auto fail_all = [&batch](const StoreError& error) {
    for (Pending* pending : batch) pending->outcome = error;
  };
  auto lease = co_await pool_.acquire();
  if (!lease) co_return fail_all(lease.error());
  if (batch.size() == 1) {
    // Alone: the prepared single-row INSERT (a taken dni: no row, or 23505).
    const std::array params{batch[0]->dni->c_str(), batch[0]->name->c_str()};
    auto result = co_await lease->connection().execute_prepared(kInsertUser.name, params);
    if (!result) co_return fail_all(result.error().to_store_error());
    if (PQntuples(result->get()) != 1) co_return fail_all(StoreError{Kind::kDniTaken, {}});
    auto id = int_at(result->get(), 0, 0);
    batch[0]->outcome = id ? StoreResult<UserId>(*id) : StoreResult<UserId>(id.error());
    co_return;
  }
  std::vector<const char*> params;
  params.reserve(batch.size() * 2);
  for (const Pending* pending : batch) {
    params.push_back(pending->dni->c_str());
    params.push_back(pending->name->c_str());
  }
  const std::string sql = insert_many_sql(batch.size());
  auto result = co_await lease->connection().execute_params(sql.c_str(), params);
  if (!result) co_return fail_all(result.error().to_store_error());
  // Each returned row is the first create of the batch with that dni.
  const PGresult* rows = result->get();
  for (int row = 0; row < PQntuples(rows); ++row) {
    auto id = int_at(rows, row, 0);
    const auto dni = text_at(rows, row, 1);
    for (Pending* pending : batch) {
      if (pending->outcome || *pending->dni != dni) continue;
      pending->outcome = id ? StoreResult<UserId>(*id) : StoreResult<UserId>(id.error());
      break;
    }
  }
  for (Pending* pending : batch) {
    if (!pending->outcome) pending->outcome = StoreError{Kind::kDniTaken, {}};
  }
}

}  // namespace users::storage::postgres
