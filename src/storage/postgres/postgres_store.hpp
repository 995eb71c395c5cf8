// The PostgreSQL backend: one database shared by any number of replicas.
//
// Each IO thread owns a few connections (its share of DATABASE_POOL_SIZE)
// and drives them with libpq's asynchronous API on its own io_context, so a
// statement never blocks the thread and never hops to another one. Every
// statement is prepared once per connection. Updates and deletes are single
// autocommit statements; creates that arrive together on one thread go as
// one multi-row INSERT, one commit for all (create_batcher.hpp).
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/migrations.hpp"
#include "storage/user_store.hpp"

namespace users::storage::postgres {

// What the backend tells the operator, once per change of state.
struct PostgresEvents {
  enum class Severity { kInfo, kWarning, kError };
  // Called from any thread.
  std::function<void(Severity, std::string_view what, std::string_view detail)> notify = [](Severity, std::string_view,
                                                                                            std::string_view) {};
};

struct PostgresOptions {
  std::string url;            // as configured: holds the password
  std::string redacted_url;   // the same, safe to print
  std::size_t pool_size = 8;  // connections in all
  std::size_t threads = 1;    // IO threads sharing them
  std::chrono::milliseconds pool_timeout{1000};
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};
  PostgresEvents events;

  // Each IO thread's share of pool_size: one connection carries its reads
  // (pipelined), the others its writes, at least one.
  [[nodiscard]] std::size_t connections_per_thread() const { return (pool_size + threads - 1) / threads; }
  [[nodiscard]] std::size_t write_connections_per_thread() const {
    return connections_per_thread() > 1 ? connections_per_thread() - 1 : 1;
  }
};

// Applies pending migrations, once: in one transaction under an advisory
// lock, so concurrent callers (replicas, a migration Job) apply each version
// exactly once. Refuses a schema newer than this binary, or an api_user
// table that lacks what the service relies on. Blocks the calling thread.
boost::system::result<MigrationReport, std::string> migrate(const PostgresOptions& options);

class PostgresStore : public UserStore {
 public:
  // True once the schema is known to be usable; until then every call
  // answers kUnavailable with the reason.
  [[nodiscard]] virtual bool ready() const = 0;
  // For tests and tools: waits until ready() or the timeout.
  virtual bool wait_until_ready(std::chrono::milliseconds timeout) = 0;
};

// Returns at once. A background thread applies migrations (as migrate()
// does), retrying with back-off (100 ms doubling to 5 s) while PostgreSQL is
// unreachable, and reporting each change of state once through the events.
std::unique_ptr<PostgresStore> open_store(PostgresOptions options);

}  // namespace users::storage::postgres
