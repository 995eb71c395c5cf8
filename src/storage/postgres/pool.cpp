#include "storage/postgres/pool.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace users::storage::postgres {
namespace asio = boost::asio;
using Kind = StoreError::Kind;

struct ConnectionPool::Slot {
  Slot(const asio::any_io_executor& executor, std::shared_ptr<const ConnectionSettings> settings)
      : connection(executor, std::move(settings)) {}
  AsyncConnection connection;
  bool busy = false;
};

// A request waiting for a connection, queued in its own coroutine frame.
// release() hands a slot over by setting `granted` and cancelling the timer.
struct ConnectionPool::Waiter {
  Waiter(ConnectionPool& owner, asio::steady_timer& wake) : pool(owner), timer(wake) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  Waiter(Waiter&&) = delete;
  Waiter& operator=(Waiter&&) = delete;
  // Also on an exception (a cancelled coroutine): leave the queue, and give
  // back a slot that was handed over but never used.
  ~Waiter() {
    if (granted != nullptr) {
      pool.release(std::exchange(granted, nullptr));
      return;
    }
    auto& queue = pool.waiters_;
    if (const auto it = std::find(queue.begin(), queue.end(), this); it != queue.end()) queue.erase(it);
  }
  Slot* take() { return std::exchange(granted, nullptr); }

  ConnectionPool& pool;
  asio::steady_timer& timer;
  Slot* granted = nullptr;
};

AsyncConnection& ConnectionPool::Lease::connection() {
  return slot_->connection;
}

ConnectionPool::ConnectionPool(asio::any_io_executor executor,
                               const std::shared_ptr<const ConnectionSettings>& settings, PoolOptions options,
                               Connector& connector)
    : executor_(std::move(executor)),
      context_(&asio::query(executor_, asio::execution::context)),
      options_(options),
      connector_(connector) {
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.connections, 1); ++i) {
    slots_.push_back(std::make_unique<Slot>(executor_, settings));
  }
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Slot* ConnectionPool::take_free() {
  Slot* unconnected = nullptr;
  for (auto& slot : slots_) {
    if (slot->busy) continue;
    if (slot->connection.connected()) return slot.get();
    if (unconnected == nullptr) unconnected = slot.get();
  }
  // Connections are opened only when every open one is busy.
  return unconnected;
}

void ConnectionPool::release(Slot* slot) noexcept {
  if (!waiters_.empty()) {
    // Straight to the longest waiter: the slot stays busy, so no newcomer can
    // take it first.
    Waiter* waiter = waiters_.front();
    waiters_.pop_front();
    waiter->granted = slot;
    try {
      waiter->timer.cancel();
    } catch (...) {  // the waiter still finds the slot when its timer expires
    }
    return;
  }
  slot->busy = false;
}

asio::awaitable<StoreResult<ConnectionPool::Lease>> ConnectionPool::acquire() {
  Slot* slot = take_free();
  if (slot != nullptr) {
    slot->busy = true;
  } else {
    if (waiters_.size() >= options_.max_waiters) {
      co_return StoreError{Kind::kBusy, fmt::format("{} requests already wait for a database connection on this thread",
                                                    waiters_.size())};
    }
    asio::steady_timer timer(executor_, options_.wait_timeout);
    Waiter waiter(*this, timer);
    waiters_.push_back(&waiter);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    slot = waiter.take();
    if (slot == nullptr) {
      co_return StoreError{
          Kind::kBusy, fmt::format("no database connection became free within {} ms", options_.wait_timeout.count())};
    }
  }
  Lease lease(this, slot);
  if (auto ready = co_await make_ready(*slot); !ready) co_return ready.error();
  co_return StoreResult<Lease>(std::move(lease));
}

asio::awaitable<StoreResult<void>> ConnectionPool::make_ready(Slot& slot) {
  if (slot.connection.connected() && slot.connection.still_usable()) co_return StoreResult<void>{};
  co_return co_await connector_.open(slot.connection);
}

}  // namespace users::storage::postgres
