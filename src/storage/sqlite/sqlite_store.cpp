#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "storage/list_sql.hpp"
#include "storage/per_thread.hpp"
#include "storage/sqlite/completion.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/migrate.hpp"
#include "storage/sqlite/user_cache.hpp"

namespace users::storage::sqlite {
namespace asio = boost::asio;
using domain::User;
using domain::UserChanges;
using domain::UserId;

namespace {

// Statements, named and kept beside the code that runs them.
constexpr std::string_view kFindUser = "SELECT id, dni, name FROM api_user WHERE id = ?1";
constexpr std::string_view kDniExists = "SELECT 1 FROM api_user WHERE dni = ?1 AND id IS NOT ?2 LIMIT 1";
constexpr std::string_view kPing = "SELECT 1";
constexpr std::string_view kInsertUser = "INSERT INTO api_user (dni, name) VALUES (?1, ?2) RETURNING id";
constexpr std::string_view kUpdateUser =
    "UPDATE api_user SET dni = coalesce(?2, dni), name = coalesce(?3, name) WHERE id = ?1 RETURNING id, dni, name";
constexpr std::string_view kDeleteUser = "DELETE FROM api_user WHERE id = ?1 RETURNING id, dni, name";
// The row a write with a precondition checks, read by the writer inside the
// write's own transaction (BEGIN IMMEDIATE holds the write lock).
constexpr std::string_view kCurrentUser = "SELECT id, dni, name FROM api_user WHERE id = ?1";
constexpr std::string_view kBegin = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
// Changes only when another connection commits (our reads never do).
constexpr std::string_view kDataVersion = "PRAGMA data_version";

// Distinct list queries (storage/list_sql.hpp) kept prepared per reader;
// past this many, the kept ones are dropped and prepared again as needed.
constexpr std::size_t kMaxListQueries = 16;

// One read-only connection with its statements, owned by one thread.
struct Reader {
  Database db;
  Statement find;
  Statement dni_exists;
  Statement ping;
  std::vector<std::pair<std::string, Statement>> list_queries;

  static SqliteResult<std::unique_ptr<Reader>> open(const SqliteOptions& options) {
    auto db = Database::open(options.path, Database::Access::kReadOnly);
    if (!db) return db.error();
    configure_connection(*db, options);
    auto find = db->prepare(kFindUser);
    if (!find) return find.error();
    auto dni_exists = db->prepare(kDniExists);
    if (!dni_exists) return dni_exists.error();
    auto ping = db->prepare(kPing);
    if (!ping) return ping.error();
    return std::make_unique<Reader>(
        Reader{std::move(*db), std::move(*find), std::move(*dni_exists), std::move(*ping), {}});
  }

  // The statement for a list query's text, prepared once.
  SqliteResult<Statement*> list_query(const std::string& sql) {
    for (auto& [text, statement] : list_queries) {
      if (text == sql) return &statement;
    }
    auto prepared = db.prepare(sql);
    if (!prepared) return prepared.error();
    if (list_queries.size() == kMaxListQueries) list_queries.clear();
    list_queries.emplace_back(sql, std::move(*prepared));
    return &list_queries.back().second;
  }
};

void bind_all(Statement::Run& run, const std::vector<SqlValue>& params) {
  int index = 0;
  for (const auto& param : params) {
    ++index;
    if (const auto* number = std::get_if<std::int64_t>(&param)) {
      run.bind(index, *number);
    } else {
      run.bind(index, std::string_view(std::get<std::string>(param)));
    }
  }
}

// The writer connection with its statements, owned by the writer thread.
struct Writer {
  Database db;
  Statement insert;
  Statement update;
  Statement remove;
  Statement current;
  Statement begin;
  Statement commit;
  Statement rollback;
  Statement data_version;

  static SqliteResult<Writer> open(const SqliteOptions& options) {
    auto db = Database::open(options.path, Database::Access::kReadWrite);
    if (!db) return db.error();
    configure_connection(*db, options);
    if (auto sync = db->execute(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        !sync) {
      return sync.error();
    }
    Writer writer{std::move(*db), {}, {}, {}, {}, {}, {}, {}, {}};
    auto prepare = [&writer](std::string_view sql, Statement& out) -> SqliteResult<void> {
      auto statement = writer.db.prepare(sql);
      if (!statement) return statement.error();
      out = std::move(*statement);
      return {};
    };
    for (const auto& [sql, out] :
         {std::pair{kInsertUser, &writer.insert}, std::pair{kUpdateUser, &writer.update},
          std::pair{kDeleteUser, &writer.remove}, std::pair{kCurrentUser, &writer.current},
          std::pair{kBegin, &writer.begin}, std::pair{kCommit, &writer.commit}, std::pair{kRollback, &writer.rollback},
          std::pair{kDataVersion, &writer.data_version}}) {
      if (auto prepared = prepare(sql, *out); !prepared) return prepared.error();
    }
    return writer;
  }

  SqliteResult<void> run(Statement& statement) {
    Statement::Run run(statement);
    auto step = run.step();
    if (!step) return step.error();
    return {};
  }
};

StoreError unavailable(std::string detail) {
  return StoreError{StoreError::Kind::kUnavailable, std::move(detail)};
}

class SqliteStore final : public UserStore {
 public:
  SqliteStore(SqliteOptions options, Writer writer)
      : options_(std::move(options)),
        cache_(options_.cache_users),
        writer_(std::move(writer)),
        writer_thread_([this] { writer_main(); }) {}

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  SqliteStore(SqliteStore&&) = delete;
  SqliteStore& operator=(SqliteStore&&) = delete;

  ~SqliteStore() override {
    {
      const std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_ready_.notify_one();
    writer_thread_.join();
  }

  asio::awaitable<StoreResult<std::optional<User>>> find(UserId id) override { co_return find_now(id); }

  // The count of changes: bumped by the writer after every COMMIT and before
  // its acknowledgements, and when another process's commit is noticed.
  asio::awaitable<std::optional<std::string>> data_version() override {
    if (!cache_.enabled()) co_return std::nullopt;
    co_return std::to_string(changes_.load(std::memory_order_acquire));
  }

  asio::awaitable<StoreResult<bool>> dni_exists(std::string dni, std::optional<UserId> except) override {
    co_return dni_exists_now(dni, except);
  }

  asio::awaitable<StoreResult<std::vector<User>>> list_page(const ListQuery& query, ListWindow window,
                                                            std::vector<User> page) override {
    // (The analyzer does not model coroutine frames: it sees `page` moved twice.)
    co_return list_page_now(query, window, std::move(page));  // NOLINT(clang-analyzer-cplusplus.Move): moved once
  }

  asio::awaitable<StoreResult<std::int64_t>> count(const UserFilter& filter) override { co_return count_now(filter); }

  asio::awaitable<StoreResult<User>> create(std::string dni, std::string name) override {
    WriteJob job;
    job.op = WriteJob::Op::kCreate;
    job.values.dni = std::move(dni);
    job.values.name = std::move(name);
    auto queued = submit(std::move(job));
    co_return co_await std::move(queued);
  }

  asio::awaitable<StoreResult<User>> update(UserId id, UserChanges changes,
                                            domain::Precondition precondition) override {
    WriteJob job;
    job.op = WriteJob::Op::kUpdate;
    job.id = id;
    job.values = std::move(changes);
    job.precondition = std::move(precondition);
    auto queued = submit(std::move(job));
    co_return co_await std::move(queued);
  }

  asio::awaitable<StoreResult<User>> remove(UserId id, domain::Precondition precondition) override {
    WriteJob job;
    job.op = WriteJob::Op::kRemove;
    job.id = id;
    job.precondition = std::move(precondition);
    auto queued = submit(std::move(job));
    co_return co_await std::move(queued);
  }

  asio::awaitable<StoreResult<void>> ping() override {
    auto reader = this_thread_reader();
    if (!reader) co_return reader.error();
    Statement::Run run((*reader)->ping);
    auto row = run.step();
    if (!row) co_return row.error().to_store_error();
    co_return StoreResult<void>{};
  }

 private:
  struct WriteJob {
    enum class Op { kCreate, kUpdate, kRemove };
    Op op = Op::kCreate;
    UserId id = 0;
    UserChanges values;
    domain::Precondition precondition = domain::Precondition::any_user();
    Completion<StoreResult<User>> done;
    // The requester's executor, holding its io_context open until the result
    // has been delivered.
    asio::any_io_executor executor;
  };

  StoreResult<Reader*> this_thread_reader() {
    if (Reader* reader = readers_.find()) return reader;
    auto reader = Reader::open(options_);
    if (!reader) return reader.error().to_store_error();
    return &readers_.adopt(std::move(*reader));
  }

  StoreResult<std::optional<User>> find_now(UserId id) {
    if (auto cached = cache_.find(id)) return cached;
    const auto ticket = cache_.ticket(id);  // before the read: see UserCache::fill
    auto reader = this_thread_reader();
    if (!reader) return reader.error();
    Statement::Run run((*reader)->find);
    run.bind(1, id);
    auto row = run.step();
    if (!row) return row.error().to_store_error();
    if (!*row) return std::optional<User>{};
    User user{run.column_int64(0), std::string(run.column_text(1)), std::string(run.column_text(2))};
    cache_.fill(user, ticket);
    return std::optional<User>{std::move(user)};
  }

  StoreResult<bool> dni_exists_now(std::string_view dni, std::optional<UserId> except) {
    auto reader = this_thread_reader();
    if (!reader) return reader.error();
    Statement::Run run((*reader)->dni_exists);
    run.bind(1, dni);
    if (except) run.bind(2, *except);
    auto row = run.step();
    if (!row) return row.error().to_store_error();
    return *row;
  }

  StoreResult<std::vector<User>> list_page_now(const ListQuery& query, const ListWindow& window,
                                               std::vector<User> page) {
    auto reader = this_thread_reader();
    if (!reader) return reader.error();
    const auto sql = list_sql(query, window, Dialect::kSqlite);
    auto statement = (*reader)->list_query(sql.text);
    if (!statement) return statement.error().to_store_error();
    Statement::Run run(**statement);
    bind_all(run, sql.params);
    // Reuse the strings already in `page`: their buffers are kept.
    std::size_t filled = 0;
    for (;;) {
      auto row = run.step();
      if (!row) return row.error().to_store_error();
      if (!*row) break;
      if (filled == page.size()) page.emplace_back();
      User& user = page[filled++];
      user.id = run.column_int64(0);
      user.dni.assign(run.column_text(1));
      user.name.assign(run.column_text(2));
    }
    page.resize(filled);
    return page;
  }

  StoreResult<std::int64_t> count_now(const UserFilter& filter) {
    auto reader = this_thread_reader();
    if (!reader) return reader.error();
    const auto sql = count_sql(filter, Dialect::kSqlite);
    auto statement = (*reader)->list_query(sql.text);
    if (!statement) return statement.error().to_store_error();
    Statement::Run run(**statement);
    bind_all(run, sql.params);
    auto row = run.step();
    if (!row) return row.error().to_store_error();
    if (!*row) return StoreError{StoreError::Kind::kInternal, "count(*) returned no row"};
    return run.column_int64(0);
  }

  asio::awaitable<StoreResult<User>> submit(WriteJob job) {
    // (Built in its own statement: GCC 12 mishandles temporaries that share a
    // full-expression with co_await.)
    auto operation = asio::async_initiate<const asio::use_awaitable_t<>&, void(StoreResult<User>)>(
        [this](auto handler, WriteJob pending) {
          pending.executor =
              asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work_t::tracked);
          pending.done = Completion<StoreResult<User>>(std::move(handler));
          enqueue(std::move(pending));
        },
        asio::use_awaitable, std::move(job));
    co_return co_await std::move(operation);
  }

  void enqueue(WriteJob job) {
    {
      const std::lock_guard lock(queue_mutex_);
      if (!stopping_ && queue_.size() < options_.max_pending_writes) {
        queue_.push_back(std::move(job));
        queue_ready_.notify_one();
        return;
      }
    }
    complete(job, StoreError{StoreError::Kind::kBusy, "SQLite write queue is full"});
  }

  // Hands the result to the requester's own executor; the writer thread never
  // runs request code.
  static void complete(WriteJob& job, StoreResult<User> result) {
    asio::post(job.executor, Delivery{std::move(job.done), std::move(result)});
  }

  // Runs the completion on the requester's executor.
  struct Delivery {
    Delivery(Completion<StoreResult<User>> completion, StoreResult<User> outcome)
        : done(std::move(completion)), result(std::move(outcome)) {}
    Delivery(Delivery&&) noexcept = default;
    Delivery& operator=(Delivery&&) noexcept = default;
    Delivery(const Delivery&) = delete;
    Delivery& operator=(const Delivery&) = delete;
    ~Delivery() = default;

    void operator()() { std::move(done)(std::move(result)); }

    Completion<StoreResult<User>> done;
    StoreResult<User> result;
  };

  void writer_main() {
    std::vector<WriteJob> batch;
    std::vector<StoreResult<User>> results;
    auto next_check = std::chrono::steady_clock::now();
    for (;;) {
      {
        std::unique_lock lock(queue_mutex_);
        if (cache_.enabled()) {
          queue_ready_.wait_until(lock, next_check, [this] { return stopping_ || !queue_.empty(); });
        } else {
          queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        }
        if (stopping_ && queue_.empty()) return;
        const auto count = std::min(queue_.size(), options_.max_batch);
        std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count), std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
      }
      if (cache_.enabled() && std::chrono::steady_clock::now() >= next_check) {
        forget_external_changes();
        next_check = std::chrono::steady_clock::now() + options_.external_change_check;
      }
      if (batch.empty()) continue;
      run_batch(batch, results);
      // After COMMIT, before any requester hears of it: no reader that
      // started after the acknowledgement can find the older user.
      for (std::size_t i = 0; i < batch.size(); ++i) {
        cache_.invalidate(batch[i].op == WriteJob::Op::kCreate && results[i] ? results[i]->id : batch[i].id);
      }
      changes_.fetch_add(1, std::memory_order_release);
      for (std::size_t i = 0; i < batch.size(); ++i) complete(batch[i], std::move(results[i]));
      batch.clear();
      results.clear();
    }
  }

  // Another process committed to the file since the last look (a second
  // users-api on the same file, the sqlite3 shell, a restore): the cache may
  // hold what it replaced.
  void forget_external_changes() {
    Statement::Run run(writer_.data_version);
    auto row = run.step();
    if (!row || !*row) {
      cache_.clear();  // cannot tell: assume the worst
      changes_.fetch_add(1, std::memory_order_release);
      return;
    }
    const auto version = run.column_int64(0);
    if (data_version_ && *data_version_ != version) {
      cache_.clear();
      changes_.fetch_add(1, std::memory_order_release);
    }
    data_version_ = version;
  }

  // One transaction for the whole batch. A failed statement (say, a taken
  // dni) undoes only itself; results are released only after COMMIT.
  void run_batch(std::vector<WriteJob>& batch, std::vector<StoreResult<User>>& results) {
    if (auto begun = writer_.run(writer_.begin); !begun) {
      results.assign(batch.size(), begun.error().to_store_error());
      return;
    }
    for (auto& job : batch) results.push_back(apply(job));

    SqliteResult<void> committed = SqliteError{SQLITE_ABORT, "transaction rolled back by an earlier error"};
    if (sqlite3_get_autocommit(writer_.db.handle()) == 0) committed = writer_.run(writer_.commit);
    if (!committed) {
      if (sqlite3_get_autocommit(writer_.db.handle()) == 0) (void)writer_.run(writer_.rollback);
      for (auto& result : results) {
        if (result) result = unavailable("commit failed: " + committed.error().message);
      }
    }
  }

  // A write's precondition against the row as it is now, on the writer's
  // connection inside the batch's transaction: no other write can come
  // between this read and the write (one writer thread, BEGIN IMMEDIATE).
  // The cache is not consulted: the row is what counts.
  StoreResult<void> check(const WriteJob& job) {
    if (job.precondition.is_any()) return {};
    Statement::Run run(writer_.current);
    run.bind(1, job.id);
    auto row = run.step();
    if (!row) return row.error().to_store_error();
    if (!*row) return StoreError{StoreError::Kind::kNotFound, {}};
    const User current{run.column_int64(0), std::string(run.column_text(1)), std::string(run.column_text(2))};
    if (!job.precondition.admits(current)) return StoreError{StoreError::Kind::kPreconditionFailed, {}};
    return {};
  }

  StoreResult<User> apply(const WriteJob& job) {
    if (job.op != WriteJob::Op::kCreate) {
      if (auto admitted = check(job); !admitted) return admitted.error();
    }
    switch (job.op) {
      case WriteJob::Op::kCreate: {
        Statement::Run run(writer_.insert);
        run.bind(1, std::string_view(*job.values.dni)).bind(2, std::string_view(*job.values.name));
        auto row = run.step();
        if (!row) return row.error().to_store_error();
        return User{run.column_int64(0), *job.values.dni, *job.values.name};
      }
      case WriteJob::Op::kUpdate: {
        Statement::Run run(writer_.update);
        run.bind(1, job.id).bind(2, job.values.dni).bind(3, job.values.name);
        auto row = run.step();
        if (!row) return row.error().to_store_error();
        if (!*row) return StoreError{StoreError::Kind::kNotFound, {}};
        return User{run.column_int64(0), std::string(run.column_text(1)), std::string(run.column_text(2))};
      }
      case WriteJob::Op::kRemove: {
        Statement::Run run(writer_.remove);
        run.bind(1, job.id);
        auto row = run.step();
        if (!row) return row.error().to_store_error();
        if (!*row) return StoreError{StoreError::Kind::kNotFound, {}};
        return User{run.column_int64(0), std::string(run.column_text(1)), std::string(run.column_text(2))};
      }
    }
    return StoreError{StoreError::Kind::kInternal, "unknown write"};
  }

  SqliteOptions options_;
  PerThread<Reader> readers_;
  UserCache cache_;
  // data_version(): bumped by the writer after a batch's COMMIT and before
  // its acknowledgements, and when another process's commit is noticed.
  std::atomic<std::uint64_t> changes_{0};
  std::optional<std::int64_t> data_version_;

  Writer writer_;
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;  // last: starts once everything above exists
};

}  // namespace

boost::system::result<std::unique_ptr<UserStore>, std::string> open_store(const SqliteOptions& options) {
  auto writer = Writer::open(options);
  if (!writer) return describe_failure(options, writer.error());
  if (auto current = require_current_schema(writer->db); !current) return current.error();
  // Fail now, not on the first request, if readers cannot open the file.
  auto probe = Reader::open(options);
  if (!probe) return describe_failure(options, probe.error());
  return std::unique_ptr<UserStore>(std::make_unique<SqliteStore>(options, std::move(*writer)));
}

}  // namespace users::storage::sqlite
