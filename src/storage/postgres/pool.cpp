#include "storage/postgres/pool.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace users::storage::postgres {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Kind = StoreError::Kind;

namespace {

// After a failed connection attempt, this thread's next one waits this long,
// doubling up to the maximum; meanwhile requests get a 503 at once instead
// of each waiting for a connection that will not come.
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

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

ConnectionPool::ConnectionPool(asio::any_io_executor executor, std::shared_ptr<const ConnectionSettings> settings,
                               PoolOptions options, Health& health)
    : executor_(std::move(executor)),
      context_(&asio::query(executor_, asio::execution::context)),
      settings_(std::move(settings)),
      options_(std::move(options)),
      health_(health),
      backoff_(kFirstBackoff) {
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.connections, 1); ++i) {
    slots_.push_back(std::make_unique<Slot>(executor_, settings_));
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
  const auto now = Clock::now();
  // The back-off is waited out only while nobody reaches the database: once
  // another thread has reconnected, this one tries at once instead of
  // answering 503 for up to kMaxBackoff after the database is back.
  if (now < retry_at_ && !health_.reachable()) {
    co_return StoreError{Kind::kUnavailable,
                         fmt::format("{} (next attempt in {} ms)", last_failure_,
                                     std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count())};
  }
  auto connected = co_await slot.connection.connect();
  if (connected) {
    // Created, then awaited (GCC 12 and non-trivial temporaries in co_await).
    auto setting_up = slot.connection.execute(options_.setup_sql, settings_->connect_timeout);
    auto setup = co_await std::move(setting_up);
    if (!setup) {
      slot.connection.close();
      connected = setup.error();
    }
  }
  if (!connected) {
    last_failure_ = connected.error().message;
    retry_at_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    health_.connect_failed(last_failure_);
    co_return connected.error().to_store_error();
  }
  backoff_ = kFirstBackoff;
  retry_at_ = {};
  health_.connect_succeeded();
  co_return StoreResult<void>{};
}

}  // namespace users::storage::postgres
