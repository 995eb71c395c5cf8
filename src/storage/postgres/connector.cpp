#include "storage/postgres/connector.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace users::storage::postgres {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// After a failed connection attempt, this thread's next one waits this long,
// doubling up to the maximum.
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

Connector::Connector(std::shared_ptr<const ConnectionSettings> settings, std::string setup_sql, Health& health)
    : settings_(std::move(settings)), setup_sql_(std::move(setup_sql)), health_(health), backoff_(kFirstBackoff) {}

asio::awaitable<StoreResult<void>> Connector::open(AsyncConnection& connection) {
  const auto now = Clock::now();
  // The back-off is waited out only while nobody reaches the database: once
  // another thread has reconnected, this one tries at once instead of
  // answering 503 for up to kMaxBackoff after the database is back.
  if (now < retry_at_ && !health_.reachable()) {
    co_return StoreError{StoreError::Kind::kUnavailable,
                         fmt::format("{} (next attempt in {} ms)", last_failure_,
                                     std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count())};
  }
  auto connected = co_await connection.connect();
  if (connected) {
    // Created, then awaited (GCC 12 and non-trivial temporaries in co_await).
    auto setting_up = connection.execute(setup_sql_, settings_->connect_timeout);
    auto setup = co_await std::move(setting_up);
    if (!setup) {
      connection.close();
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
