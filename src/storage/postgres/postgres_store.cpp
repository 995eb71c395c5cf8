#include "storage/postgres/postgres_store.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "storage/postgres/migrate.hpp"
#include "storage/postgres/pool.hpp"

namespace users::storage::postgres {
namespace asio = boost::asio;
using domain::User;
using domain::UserChanges;
using domain::UserId;
using Kind = StoreError::Kind;
using Severity = PostgresEvents::Severity;

namespace {

// Statements, named and kept beside the code that runs them; each is
// prepared once per connection. Parameters are typed so that the plans never
// depend on the first values seen.
struct Prepared {
  const char* name;
  std::string_view parameter_types;
  std::string_view sql;
};
constexpr Prepared kFindUser{"users_api_find", "bigint", "SELECT id, dni, name FROM api_user WHERE id = $1"};
constexpr Prepared kDniExists{"users_api_dni_exists", "varchar, bigint",
                              "SELECT 1 FROM api_user WHERE dni = $1 AND id IS DISTINCT FROM $2 LIMIT 1"};
constexpr Prepared kListPage{"users_api_list_page", "bigint, bigint",
                             "SELECT id, dni, name FROM api_user WHERE id > $1 ORDER BY id LIMIT $2"};
constexpr Prepared kInsertUser{"users_api_insert", "varchar, varchar",
                               "INSERT INTO api_user (dni, name) VALUES ($1, $2) RETURNING id"};
constexpr Prepared kUpdateUser{
    "users_api_update", "bigint, varchar, varchar",
    "UPDATE api_user SET dni = coalesce($2, dni), name = coalesce($3, name) WHERE id = $1 RETURNING id, dni, name"};
constexpr Prepared kDeleteUser{"users_api_delete", "bigint", "DELETE FROM api_user WHERE id = $1"};
constexpr Prepared kPing{"users_api_ping", "", "SELECT 1"};
constexpr std::array kStatements{kFindUser, kDniExists, kListPage, kInsertUser, kUpdateUser, kDeleteUser, kPing};

// One round trip per new connection: the session's statement timeout, then
// every PREPARE.
std::string connection_setup(std::chrono::milliseconds statement_timeout) {
  std::string sql = fmt::format("SET statement_timeout = {}", statement_timeout.count());
  for (const auto& statement : kStatements) {
    if (statement.parameter_types.empty()) {
      sql += fmt::format("; PREPARE {} AS {}", statement.name, statement.sql);
    } else {
      sql += fmt::format("; PREPARE {} ({}) AS {}", statement.name, statement.parameter_types, statement.sql);
    }
  }
  return sql;
}

// Start-up retries: 100 ms, doubling to 5 s.
constexpr std::chrono::milliseconds kFirstStartupRetry{100};
constexpr std::chrono::milliseconds kMaxStartupRetry{5000};
// Requests that may wait for a connection, per connection (then kBusy).
constexpr std::size_t kWaitersPerConnection = 32;

std::atomic<std::uint64_t> next_store_id{1};

// Group commit for creates. A create that arrives while another create of
// its thread is running waits; when that one is done, everything waiting goes
// as one INSERT: one round trip and one commit (one WAL flush) for all of
// them, as the SQLite writer does. Under load this is what lets durable
// commits (an fdatasync each) keep up.
constexpr std::size_t kMaxCreatesPerInsert = 256;
constexpr std::size_t kMaxWaitingCreatesPerThread = 1024;

// One create waiting in its own coroutine frame. Whoever runs the INSERT
// sets `outcome` and cancels `wake`.
struct PendingCreate {
  const std::string* dni = nullptr;
  const std::string* name = nullptr;
  asio::steady_timer* wake = nullptr;
  bool taken = false;  // in an INSERT that is running: must wait for it
  std::optional<StoreResult<UserId>> outcome;
};

struct CreateQueue {
  std::deque<PendingCreate*> waiting;
  bool running = false;
};

// Takes a create that was never run out of the queue if its frame goes away
// (its coroutine destroyed with the io_context at exit).
class WaitingCreate {
 public:
  WaitingCreate(CreateQueue& queue, PendingCreate& pending) : queue_(queue), pending_(pending) {
    queue_.waiting.push_back(&pending_);
  }
  WaitingCreate(const WaitingCreate&) = delete;
  WaitingCreate& operator=(const WaitingCreate&) = delete;
  WaitingCreate(WaitingCreate&&) = delete;
  WaitingCreate& operator=(WaitingCreate&&) = delete;
  ~WaitingCreate() {
    if (pending_.taken) return;
    if (const auto it = std::find(queue_.waiting.begin(), queue_.waiting.end(), &pending_);
        it != queue_.waiting.end()) {
      queue_.waiting.erase(it);
    }
  }

 private:
  CreateQueue& queue_;
  PendingCreate& pending_;
};

// Each thread's pool and create queue for each store it has used. A store id
// is never reused, so entries left by a destroyed store never match again.
struct ThreadPoolEntry {
  std::uint64_t store_id = 0;
  ConnectionPool* pool = nullptr;
  CreateQueue* creates = nullptr;
};
thread_local std::vector<ThreadPoolEntry> t_pools;

// "INSERT ... VALUES ($1, $2), ($3, $4), ... ON CONFLICT (dni) DO NOTHING
// RETURNING id, dni" for `rows` users. A dni already taken (by a stored user
// or earlier in the same list) returns no row; a duplicate id (a sequence
// behind rows inserted by hand) still fails the statement, as a 500.
std::string insert_many_sql(std::size_t rows) {
  std::string sql = "INSERT INTO api_user (dni, name) VALUES ";
  for (std::size_t row = 0; row < rows; ++row) {
    sql += fmt::format("{}(${}, ${})", row == 0 ? "" : ", ", 2 * row + 1, 2 * row + 2);
  }
  sql += " ON CONFLICT (dni) DO NOTHING RETURNING id, dni";
  return sql;
}

// PostgreSQL text cannot hold NUL; validation refuses it long before, but a
// NUL must never silently cut a value short (libpq takes C strings).
bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

StoreError nul_error() {
  return StoreError{Kind::kInternal, "text with a NUL character cannot be stored"};
}

std::string_view text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column), static_cast<std::size_t>(PQgetlength(result, row, column))};
}

StoreResult<std::int64_t> int_at(const PGresult* result, int row, int column) {
  const auto text = text_at(result, row, column);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return StoreError{Kind::kInternal, fmt::format("not an integer from PostgreSQL: \"{}\"", text)};
  }
  return value;
}

StoreResult<User> user_at(const PGresult* result, int row) {
  auto id = int_at(result, row, 0);
  if (!id) return id.error();
  return User{*id, std::string(text_at(result, row, 1)), std::string(text_at(result, row, 2))};
}

// Decimal text for a bigint parameter, living as long as the call's frame.
struct IntText {
  explicit IntText(std::int64_t value) {
    const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size() - 1, value);
    *end = '\0';
  }
  [[nodiscard]] const char* c_str() const { return digits.data(); }
  std::array<char, 24> digits{};
};

class Store final : public PostgresStore {
 public:
  explicit Store(PostgresOptions options)
      : options_(std::move(options)),
        settings_(std::make_shared<const ConnectionSettings>(ConnectionSettings{
            options_.url, options_.redacted_url, options_.connect_timeout, options_.statement_timeout})),
        pool_options_{options_.connections_per_thread(), options_.pool_timeout,
                      options_.connections_per_thread() * kWaitersPerConnection,
                      connection_setup(options_.statement_timeout)},
        health_([events = options_.events](bool reachable, std::string_view detail) {
          if (reachable) {
            events.notify(Severity::kInfo, "database reachable again", {});
          } else {
            events.notify(Severity::kWarning, "database unreachable", detail);
          }
        }),
        startup_thread_([this] { startup_main(); }) {}

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  Store(Store&&) = delete;
  Store& operator=(Store&&) = delete;

  ~Store() override {
    {
      const std::lock_guard lock(state_mutex_);
      stopping_ = true;
    }
    state_changed_.notify_all();
    asio::post(startup_io_, [this] {
      if (startup_connection_ != nullptr) startup_connection_->abort();
    });
    startup_thread_.join();
  }

  [[nodiscard]] bool ready() const override { return ready_.load(std::memory_order_acquire); }

  bool wait_until_ready(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(state_mutex_);
    return state_changed_.wait_for(lock, timeout, [this] { return ready() || stopping_; }) && ready();
  }

  asio::awaitable<StoreResult<std::optional<User>>> find(UserId id) override {
    const IntText id_text(id);
    const std::array params{id_text.c_str()};
    auto result = co_await run(kFindUser, params);
    if (!result) co_return result.error();
    if (PQntuples(result->get()) == 0) co_return std::optional<User>{};
    auto user = user_at(result->get(), 0);
    if (!user) co_return user.error();
    co_return std::optional<User>{std::move(*user)};
  }

  asio::awaitable<StoreResult<bool>> dni_exists(std::string dni, std::optional<UserId> except) override {
    // Validation asks about every dni it checks, NUL or not (DRF collects all
    // of a field's errors). No stored dni can hold a NUL, so the exact answer
    // needs no query, and the NUL never reaches PostgreSQL.
    if (has_nul(dni)) co_return false;
    const IntText except_text(except.value_or(0));
    const std::array params{dni.c_str(), except ? except_text.c_str() : nullptr};
    auto result = co_await run(kDniExists, params);
    if (!result) co_return result.error();
    co_return PQntuples(result->get()) > 0;
  }

  asio::awaitable<StoreResult<std::vector<User>>> list_page(UserId after, std::size_t limit,
                                                            std::vector<User> page) override {
    const IntText after_text(after);
    const IntText limit_text(static_cast<std::int64_t>(limit));
    const std::array params{after_text.c_str(), limit_text.c_str()};
    auto result = co_await run(kListPage, params);
    if (!result) co_return result.error();
    const int rows = PQntuples(result->get());
    // Reuse the strings already in `page`: their buffers are kept.
    page.resize(static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; ++row) {
      User& user = page[static_cast<std::size_t>(row)];
      auto id = int_at(result->get(), row, 0);
      if (!id) co_return id.error();
      user.id = *id;
      user.dni.assign(text_at(result->get(), row, 1));
      user.name.assign(text_at(result->get(), row, 2));
    }
    co_return page;
  }

  asio::awaitable<StoreResult<User>> create(std::string dni, std::string name) override {
    if (has_nul(dni) || has_nul(name)) co_return nul_error();
    if (!ready()) co_return not_ready();
    const auto executor = co_await asio::this_coro::executor;
    auto state = this_thread_state(executor);
    if (!state) co_return state.error();
    CreateQueue& queue = *state->creates;
    if (queue.waiting.size() >= kMaxWaitingCreatesPerThread) {
      co_return StoreError{Kind::kBusy, fmt::format("{} creates already wait on this thread", queue.waiting.size())};
    }
    asio::steady_timer wake(executor, asio::steady_timer::time_point::max());
    PendingCreate self{&dni, &name, &wake, false, std::nullopt};
    const WaitingCreate waiting(queue, self);
    while (!self.outcome) {
      if (!queue.running) {
        auto running = run_creates(*state->pool, queue);
        co_await std::move(running);
      } else {
        co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    auto id = std::move(*self.outcome);
    if (!id) co_return id.error();
    co_return User{*id, std::move(dni), std::move(name)};
  }

  asio::awaitable<StoreResult<User>> update(UserId id, UserChanges changes) override {
    if ((changes.dni && has_nul(*changes.dni)) || (changes.name && has_nul(*changes.name))) co_return nul_error();
    const IntText id_text(id);
    const std::array params{id_text.c_str(), changes.dni ? changes.dni->c_str() : nullptr,
                            changes.name ? changes.name->c_str() : nullptr};
    auto result = co_await run(kUpdateUser, params);
    if (!result) co_return result.error();
    if (PQntuples(result->get()) == 0) co_return StoreError{Kind::kNotFound, {}};
    co_return user_at(result->get(), 0);
  }

  asio::awaitable<StoreResult<void>> remove(UserId id) override {
    const IntText id_text(id);
    const std::array params{id_text.c_str()};
    auto result = co_await run(kDeleteUser, params);
    if (!result) co_return result.error();
    if (std::string_view(PQcmdTuples(result->get())) == "0") co_return StoreError{Kind::kNotFound, {}};
    co_return StoreResult<void>{};
  }

  asio::awaitable<StoreResult<void>> ping() override {
    auto result = co_await run(kPing, {});
    if (!result) co_return result.error();
    co_return StoreResult<void>{};
  }

 private:
  // Runs one prepared statement on a connection of the calling thread.
  asio::awaitable<StoreResult<ResultHandle>> run(const Prepared& statement, std::span<const char* const> params) {
    if (!ready()) co_return not_ready();
    const auto executor = co_await asio::this_coro::executor;
    auto state = this_thread_state(executor);
    if (!state) co_return state.error();
    auto lease = co_await state->pool->acquire();
    if (!lease) co_return lease.error();
    auto result = co_await lease->connection().execute_prepared(statement.name, params);
    if (!result) co_return result.error().to_store_error();
    co_return std::move(*result);
  }

  // Runs the creates at the front of the queue as one INSERT, hands each its
  // outcome, and wakes them and the next in line (the next to run one).
  asio::awaitable<void> run_creates(ConnectionPool& pool, CreateQueue& queue) {
    queue.running = true;
    std::vector<PendingCreate*> batch;
    while (!queue.waiting.empty() && batch.size() < kMaxCreatesPerInsert) {
      batch.push_back(queue.waiting.front());
      batch.back()->taken = true;
      queue.waiting.pop_front();
    }
    auto inserting = insert_users(pool, batch);
    co_await std::move(inserting);
    queue.running = false;
    for (PendingCreate* pending : batch) pending->wake->cancel();
    if (!queue.waiting.empty()) queue.waiting.front()->wake->cancel();
  }

  // Sets the outcome of every create in `batch`.
  asio::awaitable<void> insert_users(ConnectionPool& pool, const std::vector<PendingCreate*>& batch) {
    auto fail_all = [&batch](const StoreError& error) {
      for (PendingCreate* pending : batch) pending->outcome = error;
    };
    auto lease = co_await pool.acquire();
    if (!lease) co_return fail_all(lease.error());
    if (batch.size() == 1) {
      // Alone: the prepared single-row INSERT (a taken dni is its 23505).
      const std::array params{batch[0]->dni->c_str(), batch[0]->name->c_str()};
      auto result = co_await lease->connection().execute_prepared(kInsertUser.name, params);
      if (!result) co_return fail_all(result.error().to_store_error());
      if (PQntuples(result->get()) != 1) co_return fail_all(StoreError{Kind::kInternal, "INSERT returned no id"});
      auto id = int_at(result->get(), 0, 0);
      batch[0]->outcome = id ? StoreResult<UserId>(*id) : StoreResult<UserId>(id.error());
      co_return;
    }
    std::vector<const char*> params;
    params.reserve(batch.size() * 2);
    for (const PendingCreate* pending : batch) {
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
      for (PendingCreate* pending : batch) {
        if (pending->outcome || *pending->dni != dni) continue;
        pending->outcome = id ? StoreResult<UserId>(*id) : StoreResult<UserId>(id.error());
        break;
      }
    }
    for (PendingCreate* pending : batch) {
      if (!pending->outcome) pending->outcome = StoreError{Kind::kDniTaken, {}};
    }
  }

  StoreError not_ready() const {
    const std::lock_guard lock(state_mutex_);
    return StoreError{Kind::kUnavailable, reason_};
  }

  StoreResult<ThreadPoolEntry> this_thread_state(const asio::any_io_executor& executor) {
    const auto* context = &asio::query(executor, asio::execution::context);
    for (const auto& entry : t_pools) {
      if (entry.store_id != id_) continue;
      // Sockets belong to one io_context: using the store from another one
      // on this thread would be a bug in the caller.
      if (entry.pool->context() != context) {
        return StoreError{Kind::kInternal, "PostgreSQL store used from a second io_context on one thread"};
      }
      return entry;
    }
    auto pool = std::make_unique<ConnectionPool>(executor, settings_, pool_options_, health_);
    auto creates = std::make_unique<CreateQueue>();
    const ThreadPoolEntry entry{id_, pool.get(), creates.get()};
    {
      const std::lock_guard lock(pools_mutex_);
      pools_.push_back(std::move(pool));
      create_queues_.push_back(std::move(creates));
    }
    t_pools.push_back(entry);
    return entry;
  }

  // Applies migrations, retrying until they succeed or the store closes.
  void startup_main() {
    auto delay = kFirstStartupRetry;
    std::string reported;
    for (;;) {
      auto outcome = migrate_once();
      if (outcome) {
        std::string applied = fmt::format("schema version {}", outcome->version_after);
        if (!outcome->applied.empty()) applied += fmt::format(", applied {}", fmt::join(outcome->applied, ", "));
        options_.events.notify(Severity::kInfo, "database ready", applied);
        {
          const std::lock_guard lock(state_mutex_);
          ready_.store(true, std::memory_order_release);
        }
        state_changed_.notify_all();
        return;
      }
      {
        std::unique_lock lock(state_mutex_);
        reason_ = outcome.error();
        if (stopping_) return;
      }
      // Once per change of state, not once per attempt.
      if (outcome.error() != reported) {
        options_.events.notify(Severity::kWarning, "database not ready, retrying", outcome.error());
        reported = outcome.error();
      }
      std::unique_lock lock(state_mutex_);
      if (state_changed_.wait_for(lock, delay, [this] { return stopping_; })) return;
      delay = std::min(delay * 2, kMaxStartupRetry);
    }
  }

  boost::system::result<MigrationReport, std::string> migrate_once() {
    startup_io_.restart();
    AsyncConnection connection(startup_io_.get_executor(), settings_);
    startup_connection_ = &connection;
    auto future = asio::co_spawn(startup_io_, apply_migrations(connection), asio::use_future);
    startup_io_.run();
    startup_connection_ = nullptr;
    try {
      return future.get();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }

  const std::uint64_t id_ = next_store_id.fetch_add(1);
  PostgresOptions options_;
  std::shared_ptr<const ConnectionSettings> settings_;
  PoolOptions pool_options_;
  Health health_;

  std::atomic<bool> ready_{false};
  mutable std::mutex state_mutex_;
  std::condition_variable state_changed_;
  std::string reason_ = "database migrations have not run yet";
  bool stopping_ = false;

  std::mutex pools_mutex_;
  std::vector<std::unique_ptr<ConnectionPool>> pools_;
  std::vector<std::unique_ptr<CreateQueue>> create_queues_;

  // The start-up thread's own loop and connection (touched only there).
  asio::io_context startup_io_{1};
  AsyncConnection* startup_connection_ = nullptr;
  std::thread startup_thread_;  // last: starts once everything above exists
};

}  // namespace

boost::system::result<MigrationReport, std::string> migrate(const PostgresOptions& options) {
  auto settings = std::make_shared<const ConnectionSettings>(
      ConnectionSettings{options.url, options.redacted_url, options.connect_timeout, options.statement_timeout});
  asio::io_context io{1};
  AsyncConnection connection(io.get_executor(), settings);
  auto future = asio::co_spawn(io, apply_migrations(connection), asio::use_future);
  io.run();
  try {
    return future.get();
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

std::unique_ptr<PostgresStore> open_store(PostgresOptions options) {
  return std::make_unique<Store>(std::move(options));
}

}  // namespace users::storage::postgres
