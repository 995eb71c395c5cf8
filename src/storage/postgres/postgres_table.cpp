#include "storage/postgres/postgres_table.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <exception>
#include <utility>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/rows.hpp"

namespace users::storage::postgres {
namespace asio = boost::asio;

namespace {

using domain::User;
using domain::UserId;
using Cause = BatchFailure::Cause;

constexpr std::string_view kReadPage = "SELECT id, dni, name FROM api_user WHERE id > $1 ORDER BY id LIMIT $2";
constexpr std::string_view kCount = "SELECT count(*) FROM api_user";
constexpr std::string_view kInsertWithIds = "INSERT INTO api_user (id, dni, name) VALUES ";
constexpr std::string_view kReplaceById = " ON CONFLICT (id) DO UPDATE SET dni = excluded.dni, name = excluded.name";
// The lock keeps concurrent inserts (and their nextval) out between reading
// the sequence and setting it, so it never moves back.
constexpr std::string_view kAdvanceSequence =
    "BEGIN; LOCK TABLE api_user IN EXCLUSIVE MODE;"
    " SELECT setval(q.s, q.m) FROM (SELECT pg_get_serial_sequence('api_user', 'id') AS s,"
    "  (SELECT max(id) FROM api_user) AS m) q"
    " WHERE q.m > coalesce(pg_sequence_last_value(q.s::regclass), 0);"
    " COMMIT";
constexpr std::string_view kBeginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kBegin = "BEGIN";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kSavepoint = "SAVEPOINT users_api_batch";
constexpr std::string_view kReleaseSavepoint = "RELEASE SAVEPOINT users_api_batch";
constexpr std::string_view kUndoSavepoint = "ROLLBACK TO SAVEPOINT users_api_batch";

// One statement for a whole batch (a round trip and a commit for all); the
// parameters ($1.. three per user) stay far below PostgreSQL's 65535.
std::string insert_sql(std::size_t rows, IdPolicy policy) {
  std::string sql(kInsertWithIds);
  for (std::size_t row = 0; row < rows; ++row) {
    sql += fmt::format("{}(${}, ${}, ${})", row == 0 ? "" : ", ", 3 * row + 1, 3 * row + 2, 3 * row + 3);
  }
  if (policy == IdPolicy::kReplaceExisting) sql += kReplaceById;
  return sql;
}

Cause cause_of(const PgError& error) {
  if (error.kind == StoreError::Kind::kDniTaken) return Cause::kDniTaken;
  // classify_sqlstate calls a duplicate primary key internal: for the
  // server it is; here it is the id the user asked to keep.
  if (error.sqlstate == "23505") return Cause::kIdTaken;
  return Cause::kDatabase;
}

class PostgresTable final : public UserTable {
 public:
  explicit PostgresTable(std::shared_ptr<const ConnectionSettings> settings)
      : connection_(io_.get_executor(), std::move(settings)) {}

  StoreResult<void> connect() {
    auto connected = run_here(connection_.connect());
    if (!connected) return connected.error();
    if (!*connected) return connected->error().to_store_error();
    return {};
  }

  StoreResult<void> begin_snapshot() override { return simple(kBeginSnapshot); }
  StoreResult<void> end_snapshot() override { return simple(kCommit); }

  StoreResult<void> read_page(UserId after, std::size_t limit, std::vector<User>& page) override {
    page.clear();
    const IntText after_text(after);
    const IntText limit_text(static_cast<std::int64_t>(limit));
    const std::array params{after_text.c_str(), limit_text.c_str()};
    auto result = query(std::string(kReadPage), params);
    if (!result) return result.error();
    const PGresult* rows = result->get();
    for (int row = 0; row < PQntuples(rows); ++row) {
      auto user = user_at(rows, row);
      if (!user) return user.error();
      page.push_back(std::move(*user));
    }
    return {};
  }

  StoreResult<std::int64_t> count() override {
    auto result = query(std::string(kCount), {});
    if (!result) return result.error();
    return int_at(result->get(), 0, 0);
  }

  boost::system::result<void, BatchFailure> write(std::span<const User> users, IdPolicy policy) override {
    if (users.empty()) return {};
    for (const auto& user : users) {
      if (has_nul(user.dni) || has_nul(user.name)) return BatchFailure{Cause::kDatabase, std::nullopt, nul_error()};
    }
    if (in_trial_) {
      if (auto saved = simple(kSavepoint); !saved) return BatchFailure{Cause::kDatabase, std::nullopt, saved.error()};
    }
    // Outside a trial the statement is its own transaction: all or nothing.
    auto written = insert(users, policy);
    if (!written) {
      if (in_trial_) (void)simple(kUndoSavepoint);
      return find_failing_row(users, policy, written.error());
    }
    if (in_trial_) {
      if (auto released = simple(kReleaseSavepoint); !released) {
        return BatchFailure{Cause::kDatabase, std::nullopt, released.error()};
      }
    }
    return {};
  }

  StoreResult<void> begin_trial() override {
    auto begun = simple(kBegin);
    in_trial_ = begun.has_value();
    return begun;
  }

  StoreResult<void> rollback_trial() override {
    in_trial_ = false;
    return simple(kRollback);
  }

  StoreResult<void> advance_id_sequence() override {
    if (auto advanced = simple(kAdvanceSequence); !advanced) {
      (void)simple(kRollback);
      return advanced.error();
    }
    return {};
  }

 private:
  // Runs `task` to completion on this table's io_context.
  template <typename T>
  StoreResult<T> run_here(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    io_.restart();
    io_.run();
    try {
      return future.get();
    } catch (const std::exception& e) {
      return StoreError{StoreError::Kind::kInternal, e.what()};
    }
  }

  // The awaitables come straight from AsyncConnection: the coroutine frames
  // live in connection.cpp, and `sql` and `params` outlive run_here.
  StoreResult<ResultHandle> query(const std::string& sql, std::span<const char* const> params) {
    auto outcome = query_raw(sql, params);
    if (!outcome) return outcome.error().to_store_error();
    return std::move(*outcome);
  }

  PgResult<ResultHandle> query_raw(const std::string& sql, std::span<const char* const> params) {
    auto outcome = run_here(connection_.execute_params(sql.c_str(), params));
    if (!outcome) return PgError{outcome.error().kind, "", outcome.error().detail};
    return std::move(*outcome);
  }

  StoreResult<void> simple(std::string_view sql) {
    auto outcome = run_here(connection_.execute(std::string(sql), kToolStatementTimeout));
    if (!outcome) return outcome.error();
    if (!*outcome) return outcome->error().to_store_error();
    return {};
  }

  PgResult<ResultHandle> insert(std::span<const User> users, IdPolicy policy) {
    std::vector<IntText> ids;
    ids.reserve(users.size());
    std::vector<const char*> params;
    params.reserve(users.size() * 3);
    for (const auto& user : users) {
      params.push_back(ids.emplace_back(user.id).c_str());
      params.push_back(user.dni.c_str());
      params.push_back(user.name.c_str());
    }
    return query_raw(insert_sql(users.size(), policy), params);
  }

  // The batch failed as one statement; replays it a user at a time, in a
  // transaction (or savepoint) that is then undone, to name the user.
  BatchFailure find_failing_row(std::span<const User> users, IdPolicy policy, const PgError& batch_error) {
    BatchFailure failure{cause_of(batch_error), std::nullopt, batch_error.to_store_error()};
    if (batch_error.kind == StoreError::Kind::kUnavailable) return failure;
    if (!simple(in_trial_ ? kSavepoint : kBegin)) return failure;
    for (std::size_t row = 0; row < users.size(); ++row) {
      if (auto written = insert(users.subspan(row, 1), policy); !written) {
        failure = BatchFailure{cause_of(written.error()), row, written.error().to_store_error()};
        break;
      }
    }
    (void)simple(in_trial_ ? kUndoSavepoint : kRollback);
    if (in_trial_) (void)simple(kReleaseSavepoint);
    return failure;
  }

  // A batch of a thousand users, or an exclusive lock behind a long
  // transaction, may take a while; a server that does not answer at all
  // still gets the tool to give up.
  static constexpr std::chrono::minutes kToolStatementTimeout{10};

  asio::io_context io_{1};
  AsyncConnection connection_;
  bool in_trial_ = false;
};

}  // namespace

boost::system::result<std::unique_ptr<UserTable>, std::string> open_table(const PostgresOptions& options) {
  // Only the client-side limit applies to these statements: the server's
  // statement_timeout stays at its default (none) on this connection.
  constexpr std::chrono::minutes kStatementTimeout{10};
  auto settings = std::make_shared<const ConnectionSettings>(
      ConnectionSettings{options.url, options.redacted_url, options.connect_timeout, kStatementTimeout});
  auto table = std::make_unique<PostgresTable>(std::move(settings));
  if (auto connected = table->connect(); !connected) return connected.error().detail;
  return std::unique_ptr<UserTable>(std::move(table));
}

}  // namespace users::storage::postgres
