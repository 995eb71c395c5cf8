// One PostgreSQL connection driven by libpq's asynchronous API on an Asio
// executor: the connection's socket is watched by that executor's reactor,
// so waiting for the server never blocks the thread, and other clients of
// the thread are served meanwhile.
//
// Not thread-safe: a connection belongs to one executor (one IO thread), and
// only one operation runs on it at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "storage/postgres/libpq.hpp"

namespace users::storage::postgres {

// How long past statement_timeout the client waits before it gives up on the
// server: long enough for the server's own timeout error to arrive first.
inline constexpr std::chrono::milliseconds kClientGrace{500};

class AsyncConnection {
 public:
  using Clock = std::chrono::steady_clock;

  AsyncConnection(const boost::asio::any_io_executor& executor, std::shared_ptr<const ConnectionSettings> settings);
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;
  AsyncConnection(AsyncConnection&&) = delete;
  AsyncConnection& operator=(AsyncConnection&&) = delete;
  ~AsyncConnection();

  [[nodiscard]] bool connected() const { return conn_ != nullptr; }

  // For an idle connection: false (and closed) if the server has gone away
  // since its last use, as it does when PostgreSQL restarts. Costs one poll().
  bool still_usable();

  // Opens a new connection (closing any old one), within connect_timeout.
  boost::asio::awaitable<PgResult<void>> connect();

  // Runs one statement, or several separated by ';', with the simple query
  // protocol; the first error, or the last result.
  boost::asio::awaitable<PgResult<ResultHandle>> execute(std::string sql, Clock::duration timeout);

  // Runs a statement prepared on this connection; `params` are text values.
  boost::asio::awaitable<PgResult<ResultHandle>> execute_prepared(const char* name,
                                                                  std::span<const char* const> params);

  // Runs one statement with `params` as text values, unprepared (parsed and
  // planned on every call: for statements whose shape varies).
  boost::asio::awaitable<PgResult<ResultHandle>> execute_params(const char* sql, std::span<const char* const> params);

  // For the pipeline, which drives libpq itself once connected: the
  // connection, and its socket as the reactor watches it.
  [[nodiscard]] PGconn* native_handle() const { return conn_.get(); }
  boost::asio::posix::stream_descriptor& socket() { return socket_; }
  [[nodiscard]] const ConnectionSettings& settings() const { return *settings_; }

  // Drops the connection; the next use must connect() again.
  void close();

  // Makes the pending operation, and every later one, fail at once (for
  // shutting down). Same thread only; from elsewhere, post it.
  void abort();

 private:
  class UnwindGuard;

  boost::asio::awaitable<PgResult<void>> wait(boost::asio::posix::descriptor_base::wait_type type);
  boost::asio::awaitable<PgResult<ResultHandle>> finish_query();
  bool watch_socket();
  void arm(Clock::time_point deadline);
  void disarm();
  PgError broken(std::string_view what);

  std::shared_ptr<const ConnectionSettings> settings_;
  ConnHandle conn_;
  // Wraps libpq's socket for the reactor; released (never closed) before
  // libpq closes the socket itself.
  boost::asio::posix::stream_descriptor socket_;
  // Bounds each operation: on expiry the pending wait is cancelled and the
  // connection dropped. `generation_` tells a stale expiry from a live one.
  boost::asio::steady_timer deadline_;
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool aborted_ = false;
};

}  // namespace users::storage::postgres
