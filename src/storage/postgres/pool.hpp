// The connections of one IO thread. Each IO thread owns its own pool, so a
// request never waits for a lock or hops to another thread: it borrows one of
// its thread's connections, or waits (suspended, not blocking) for one to be
// returned, for a bounded time and in a bounded queue.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/connector.hpp"

namespace users::storage::postgres {

struct PoolOptions {
  std::size_t connections = 1;  // this thread's share of DATABASE_POOL_SIZE
  std::chrono::milliseconds wait_timeout{1000};
  std::size_t max_waiters = 32;
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

  ConnectionPool(boost::asio::any_io_executor executor, const std::shared_ptr<const ConnectionSettings>& settings,
                 PoolOptions options, Connector& connector);
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
  PoolOptions options_;
  Connector& connector_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Waiter*> waiters_;
};

}  // namespace users::storage::postgres
