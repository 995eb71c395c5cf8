// Opens the connections of one IO thread, for its pool and its pipeline
// alike: the session set-up (statement timeout, PREPAREs) on every new
// connection, and one back-off after a failed attempt, shared by all of them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/health.hpp"

namespace users::storage::postgres {

class Connector {
 public:
  Connector(std::shared_ptr<const ConnectionSettings> settings, std::string setup_sql, Health& health);

  // Connects `connection` and runs the set-up on it. During the back-off
  // after a failure, while no thread reaches the database, kUnavailable at
  // once: requests get a 503 instead of each waiting for a connection that
  // will not come.
  boost::asio::awaitable<StoreResult<void>> open(AsyncConnection& connection);

 private:
  std::shared_ptr<const ConnectionSettings> settings_;
  std::string setup_sql_;
  Health& health_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_;
  std::string last_failure_;
};

}  // namespace users::storage::postgres
