#include "storage/postgres/postgres_store.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "storage/list_sql.hpp"
#include "storage/per_thread.hpp"
#include "storage/postgres/connector.hpp"
#include "storage/postgres/create_batcher.hpp"
#include "storage/postgres/migrate.hpp"
#include "storage/postgres/pipeline.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/postgres/rows.hpp"
#include "storage/postgres/statements.hpp"

namespace users::storage::postgres {
namespace asio = boost::asio;
using domain::User;
using domain::UserChanges;
using domain::UserId;
using Kind = StoreError::Kind;
using Severity = PostgresEvents::Severity;

namespace {

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

// The accepted tags as a text[] literal. Only tags that could be one of ours
// (lowercase hex) are kept: nothing else can match, and nothing a client
// sent needs quoting inside the literal.
std::string tag_array(const domain::Precondition& precondition) {
  std::string literal = "{";
  for (const auto& tag : precondition.tags()) {
    if (tag.empty() ||
        !std::all_of(tag.begin(), tag.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      continue;
    }
    if (literal.size() > 1) literal += ',';
    literal += tag;
  }
  literal += '}';
  return literal;
}

// The answer of kUpdateUserIf or kDeleteUserIf: no row, no user; a row whose
// last column is false, a user the precondition refused.
StoreResult<User> conditional_write(const PGresult* result) {
  if (PQntuples(result) == 0) return StoreError{Kind::kNotFound, {}};
  if (text_at(result, 0, 3) != "t") return StoreError{Kind::kPreconditionFailed, {}};
  return user_at(result, 0);
}

// Start-up retries: 100 ms, doubling to 5 s.
constexpr std::chrono::milliseconds kFirstStartupRetry{100};
constexpr std::chrono::milliseconds kMaxStartupRetry{5000};
// Requests that may wait for a connection, per connection (then kBusy).
constexpr std::size_t kWaitersPerConnection = 32;

// What each IO thread owns of a store: one pipelined connection for its
// reads, a pool for its writes, its creates, and the back-off they share.
struct ThreadState {
  ThreadState(const asio::any_io_executor& executor, const std::shared_ptr<const ConnectionSettings>& settings,
              const std::string& setup_sql, PoolOptions write_options, PipelineOptions read_options, Health& health)
      : connector(settings, setup_sql, health),
        reads(executor, settings, read_options, connector),
        writes(executor, settings, write_options, connector) {}

  Connector connector;
  ReadPipeline reads;
  ConnectionPool writes;
  CreateBatcher creates{writes};
};

class Store final : public PostgresStore {
 public:
  explicit Store(PostgresOptions options)
      : options_(std::move(options)),
        settings_(std::make_shared<const ConnectionSettings>(ConnectionSettings{
            options_.url, options_.redacted_url, options_.connect_timeout, options_.statement_timeout})),
        setup_sql_(connection_setup(options_.statement_timeout)),
        write_options_{options_.write_connections_per_thread(), options_.pool_timeout,
                       options_.write_connections_per_thread() * kWaitersPerConnection},
        read_options_{1 + options_.connections_per_thread() * kWaitersPerConnection, options_.pool_timeout},
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

  // post() throws only when out of memory, join() only on a self-join: both
  // are bugs the process should not outlive.
  ~Store() override {  // NOLINT(bugprone-exception-escape): see above
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
    auto reading = read(co_await asio::this_coro::executor, kFindUser, params);
    auto result = co_await std::move(reading);
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
    auto reading = read(co_await asio::this_coro::executor, kDniExists, params);
    auto result = co_await std::move(reading);
    if (!result) co_return result.error();
    co_return PQntuples(result->get()) > 0;
  }

  asio::awaitable<StoreResult<std::vector<User>>> list_page(const ListQuery& query, ListWindow window,
                                                            std::vector<User> page) override {
    auto result = co_await run_list(query, window);
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

  asio::awaitable<StoreResult<std::int64_t>> count(const UserFilter& filter) override {
    auto sql = count_sql(filter, Dialect::kPostgres);
    if (holds_nul(sql)) co_return std::int64_t{0};  // as in list_page
    auto running = read(std::move(sql));
    auto result = co_await std::move(running);
    if (!result) co_return result.error();
    if (PQntuples(result->get()) != 1) co_return StoreError{Kind::kInternal, "count(*) returned no row"};
    co_return int_at(result->get(), 0, 0);
  }

  asio::awaitable<StoreResult<User>> create(std::string dni, std::string name) override {
    if (has_nul(dni) || has_nul(name)) co_return nul_error();
    auto state = ready_state(co_await asio::this_coro::executor);
    if (!state) co_return state.error();
    auto creating = (*state)->creates.create(dni, name);
    auto id = co_await std::move(creating);
    if (!id) co_return id.error();
    co_return User{*id, std::move(dni), std::move(name)};
  }

  asio::awaitable<StoreResult<User>> update(UserId id, UserChanges changes,
                                            domain::Precondition precondition) override {
    if ((changes.dni && has_nul(*changes.dni)) || (changes.name && has_nul(*changes.name))) co_return nul_error();
    const IntText id_text(id);
    if (!precondition.is_any()) {
      const std::string tags = tag_array(precondition);
      const std::array params{id_text.c_str(), changes.dni ? changes.dni->c_str() : nullptr,
                              changes.name ? changes.name->c_str() : nullptr, tags.c_str()};
      auto result = co_await write(kUpdateUserIf, params);
      if (!result) co_return result.error();
      co_return conditional_write(result->get());
    }
    const std::array params{id_text.c_str(), changes.dni ? changes.dni->c_str() : nullptr,
                            changes.name ? changes.name->c_str() : nullptr};
    auto result = co_await write(kUpdateUser, params);
    if (!result) co_return result.error();
    if (PQntuples(result->get()) == 0) co_return StoreError{Kind::kNotFound, {}};
    co_return user_at(result->get(), 0);
  }

  asio::awaitable<StoreResult<User>> remove(UserId id, domain::Precondition precondition) override {
    const IntText id_text(id);
    if (!precondition.is_any()) {
      const std::string tags = tag_array(precondition);
      const std::array params{id_text.c_str(), tags.c_str()};
      auto result = co_await write(kDeleteUserIf, params);
      if (!result) co_return result.error();
      co_return conditional_write(result->get());
    }
    const std::array params{id_text.c_str()};
    auto result = co_await write(kDeleteUser, params);
    if (!result) co_return result.error();
    if (PQntuples(result->get()) == 0) co_return StoreError{Kind::kNotFound, {}};
    co_return user_at(result->get(), 0);
  }

  // Costs one pipelined read. Unknown (nullopt) when it fails: the list
  // read that follows reports the failure.
  asio::awaitable<std::optional<std::string>> data_version() override {
    auto reading = read(co_await asio::this_coro::executor, kSnapshot, {});
    auto result = co_await std::move(reading);
    if (!result || PQntuples(result->get()) != 1) co_return std::nullopt;
    co_return std::string(text_at(result->get(), 0, 0));
  }

  asio::awaitable<StoreResult<void>> ping() override {
    auto reading = read(co_await asio::this_coro::executor, kPing, {});
    auto result = co_await std::move(reading);
    if (!result) co_return result.error();
    co_return StoreResult<void>{};
  }

 private:
  // The calling thread's state, once the store is ready (a plain function:
  // a coroutine would be one more frame per statement).
  StoreResult<ThreadState*> ready_state(const asio::any_io_executor& executor) {
    if (!ready()) return not_ready();
    return this_thread_state(executor);
  }

  // Runs one prepared read in the calling thread's pipeline.
  // The pipeline's own awaitable, not a coroutine around it: one frame less
  // per read.
  asio::awaitable<StoreResult<ResultHandle>> read(const asio::any_io_executor& executor, const Prepared& statement,
                                                  std::span<const char* const> params) {
    auto state = ready_state(executor);
    if (!state) return failed(state.error());
    return (*state)->reads.run(Read{statement.name, nullptr, params});
  }
  static asio::awaitable<StoreResult<ResultHandle>> failed(StoreError error) { co_return error; }

  // Runs one prepared write on a connection of the calling thread's pool.
  asio::awaitable<StoreResult<ResultHandle>> write(const Prepared& statement, std::span<const char* const> params) {
    auto state = ready_state(co_await asio::this_coro::executor);
    if (!state) co_return state.error();
    auto lease = co_await (*state)->writes.acquire();
    if (!lease) co_return lease.error();
    auto result = co_await lease->connection().execute_prepared(statement.name, params);
    if (!result) co_return result.error().to_store_error();
    co_return std::move(*result);
  }

  // A list query: the plain one through its prepared statements, any other
  // built and planned for the call. A text holding a NUL matches no stored
  // user (and PostgreSQL refuses it): an empty result, from a query that
  // cannot match.
  asio::awaitable<StoreResult<ResultHandle>> run_list(const ListQuery& query, const ListWindow& window) {
    const bool plain = query.filter.empty() && effective_ordering(query.ordering).size() == 1 &&
                       !effective_ordering(query.ordering).front().descending && window.offset == 0 &&
                       !window.backwards;
    const IntText limit_text(static_cast<std::int64_t>(window.limit));
    if (plain && !window.after) {
      const std::array params{limit_text.c_str()};
      auto reading = read(co_await asio::this_coro::executor, kListFirst, params);
      co_return co_await std::move(reading);
    }
    if (plain) {
      const IntText after_text(window.after->id);
      const std::array params{after_text.c_str(), limit_text.c_str()};
      auto reading = read(co_await asio::this_coro::executor, kListAfter, params);
      co_return co_await std::move(reading);
    }
    auto sql = list_sql(query, window, Dialect::kPostgres);
    if (holds_nul(sql)) sql = Sql{"SELECT id, dni, name FROM api_user WHERE false", {}};
    // (Built in its own statement: GCC 12 and non-trivial temporaries in co_await.)
    auto running = read(std::move(sql));
    co_return co_await std::move(running);
  }

  static bool holds_nul(const Sql& sql) {
    return std::any_of(sql.params.begin(), sql.params.end(), [](const SqlValue& param) {
      const auto* text = std::get_if<std::string>(&param);
      return text != nullptr && has_nul(*text);
    });
  }

  // Runs a built read (a list query) in the calling thread's pipeline, its
  // parameters sent as text.
  asio::awaitable<StoreResult<ResultHandle>> read(Sql sql) {
    std::vector<std::string> texts;
    texts.reserve(sql.params.size());
    for (auto& param : sql.params) {
      if (auto* number = std::get_if<std::int64_t>(&param)) {
        texts.push_back(std::to_string(*number));
      } else {
        texts.push_back(std::move(std::get<std::string>(param)));
      }
    }
    std::vector<const char*> params;
    params.reserve(texts.size());
    for (const auto& text : texts) params.push_back(text.c_str());
    auto state = ready_state(co_await asio::this_coro::executor);
    if (!state) co_return state.error();
    co_return co_await (*state)->reads.run(Read{nullptr, sql.text.c_str(), params});
  }

  StoreError not_ready() const {
    const std::lock_guard lock(state_mutex_);
    return StoreError{Kind::kUnavailable, reason_};
  }

  // The calling thread's connections, made on its first call.
  StoreResult<ThreadState*> this_thread_state(const asio::any_io_executor& executor) {
    if (ThreadState* state = threads_.find()) {
      // Sockets belong to one io_context: using the store from another one
      // on this thread would be a bug in the caller.
      if (state->writes.context() != &asio::query(executor, asio::execution::context)) {
        return StoreError{Kind::kInternal, "PostgreSQL store used from a second io_context on one thread"};
      }
      return state;
    }
    return &threads_.adopt(
        std::make_unique<ThreadState>(executor, settings_, setup_sql_, write_options_, read_options_, health_));
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

  PostgresOptions options_;
  std::shared_ptr<const ConnectionSettings> settings_;
  std::string setup_sql_;
  PoolOptions write_options_;
  PipelineOptions read_options_;
  Health health_;

  std::atomic<bool> ready_{false};
  mutable std::mutex state_mutex_;
  std::condition_variable state_changed_;
  std::string reason_ = "database migrations have not run yet";
  bool stopping_ = false;

  PerThread<ThreadState> threads_;

  // The start-up thread's own loop and connection (touched only there).
  asio::io_context startup_io_{1};
  AsyncConnection* startup_connection_ = nullptr;
  std::thread startup_thread_;  // last: starts once everything above exists
};

}  // namespace

std::unique_ptr<PostgresStore> open_store(PostgresOptions options) {
  return std::make_unique<Store>(std::move(options));
}

}  // namespace users::storage::postgres
