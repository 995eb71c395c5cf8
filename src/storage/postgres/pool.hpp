// The connections of one IO thread. Each IO thread owns its own pool, so a
// request never waits for a lock or hops to another thread: it borrows one of
// its thread's connections, or waits (suspended, not blocking) for one to be
// returned, for a bounded time and in a bounded queue.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/connection.hpp"

namespace users::storage::postgres {

// Whether PostgreSQL can be reached, as every pool of a store sees it. Each
// change is reported once, whichever thread notices it first.
class Health {
 public:
  using Notify = std::function<void(bool reachable, std::string_view detail)>;
  explicit Health(Notify notify) : notify_(std::move(notify)) {}

  void connect_failed(std::string_view detail) {
    if (reachable_.exchange(false, std::memory_order_relaxed)) notify_(false, detail);
  }
  void connect_succeeded() {
    if (!reachable_.exchange(true, std::memory_order_relaxed)) notify_(true, {});
  }
  [[nodiscard]] bool reachable() const { return reachable_.load(std::memory_order_relaxed); }

 private:
  Notify notify_;
  std::atomic<bool> reachable_{true};
};

struct PoolOptions {
  std::size_t connections = 1;  // this thread's share of DATABASE_POOL_SIZE
  std::chrono::milliseconds wait_timeout{1000};
  std::size_t max_waiters = 32;
  // Run on every new connection: session settings and PREPAREs.
  std::string setup_sql;
};

class ConnectionPool {
  struct Slot;

 public:
  // A borrowed, connected connection; returned to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(std::exchange(other.slot_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (slot_ != nullptr) pool_->release(slot_);
    }
    AsyncConnection& connection();

   private:
    ConnectionPool* pool_;
    Slot* slot_;
  };

  ConnectionPool(boost::asio::any_io_executor executor, std::shared_ptr<const ConnectionSettings> settings,
                 PoolOptions options, Health& health);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ConnectionPool(ConnectionPool&&) = delete;
  ConnectionPool& operator=(ConnectionPool&&) = delete;
  ~ConnectionPool();

  // A connection ready for a statement; kBusy when none is free within the
  // wait timeout (or the waiting queue is full), kUnavailable when
  // PostgreSQL cannot be reached.
  boost::asio::awaitable<StoreResult<Lease>> acquire();

  // The io_context this pool's sockets belong to.
  [[nodiscard]] const boost::asio::execution_context* context() const { return context_; }

 private:
  struct Waiter;

  Slot* take_free();
  // noexcept: called from destructors (Lease, Waiter).
  void release(Slot* slot) noexcept;
  boost::asio::awaitable<StoreResult<void>> make_ready(Slot& slot);

  boost::asio::any_io_executor executor_;
  const boost::asio::execution_context* context_;
  std::shared_ptr<const ConnectionSettings> settings_;
  PoolOptions options_;
  Health& health_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Waiter*> waiters_;
  // Reconnection back-off, shared by this thread's connections.
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_;
  std::string last_failure_;
};

}  // namespace users::storage::postgres
