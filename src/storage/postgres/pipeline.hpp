// One IO thread's reads, on one connection in libpq's pipeline mode.
//
// A read does not wait for the reads before it: it is queued, and every read
// queued in one turn of the thread's event loop goes in one write behind one
// Sync; PostgreSQL answers them in order, and the answers are read back in as
// few reads as its writes allow. That is one wake-up of the backend and one
// of the thread per batch, where a pool pays both per statement.
//
// A failure stays with its statement. PostgreSQL skips what follows a failed
// statement up to the next Sync (PGRES_PIPELINE_ABORTED); those reads, which
// never ran, are sent again. A Sync per batch rather than per statement
// because libpq 15's PQpipelineSync also flushes: one per statement would be
// a write per statement, and one reply flush per statement on the server.
//
// Writes never come here (they have the thread's pool), so a read never waits
// behind a row lock or a commit's WAL flush; only behind the reads queued
// before it, each bounded by the statement timeout.
//
// Not thread-safe: it belongs to one executor, like its connection.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/connector.hpp"

namespace users::storage::postgres {

// What a read runs: a statement prepared on every connection (by name), or
// SQL text planned for the call. Parameters are text; they must stay valid
// until the read completes.
struct Read {
  const char* prepared = nullptr;
  const char* sql = nullptr;
  std::span<const char* const> params;
};

struct PipelineOptions {
  // Reads queued or running on the thread; past it, kBusy at once.
  std::size_t max_reads = 33;
  // A read still waiting for its turn after this gives up (kBusy), as a
  // request waiting for a pool's connection does.
  std::chrono::milliseconds queue_timeout{1000};
};

class ReadPipeline {
 public:
  ReadPipeline(const boost::asio::any_io_executor& executor, std::shared_ptr<const ConnectionSettings> settings,
               PipelineOptions options, Connector& connector);
  ReadPipeline(const ReadPipeline&) = delete;
  ReadPipeline& operator=(const ReadPipeline&) = delete;
  ReadPipeline(ReadPipeline&&) = delete;
  ReadPipeline& operator=(ReadPipeline&&) = delete;
  ~ReadPipeline();

  // The statement's result, or: kBusy when the thread has max_reads already
  // or the read waited past queue_timeout; kUnavailable when PostgreSQL
  // cannot be reached, the connection is lost, or the statement timed out.
  boost::asio::awaitable<StoreResult<ResultHandle>> run(Read read);

 private:
  using Clock = std::chrono::steady_clock;
  using Completion = boost::asio::any_completion_handler<void(StoreResult<ResultHandle>)>;
  struct Entry {
    Read read;
    Clock::time_point queued_at;
    Completion done;  // empty once answered (it gave up waiting)
    ResultHandle result;
    bool skipped = false;     // PGRES_PIPELINE_ABORTED: never ran
    bool sync_after = false;  // the last of its batch
    std::uint8_t attempts = 0;
  };

  void enqueue(Read read, Completion done);
  void schedule_flush();
  void flush();
  void continue_flush();
  void arm_read();
  void on_readable(const boost::system::error_code& ec);
  void drain();
  void finish_head();
  [[nodiscard]] std::optional<Clock::time_point> next_deadline() const;
  [[nodiscard]] Clock::duration statement_limit() const;
  void arm_watchdog(Clock::time_point at);
  void on_watchdog();
  void disarm_when_idle();
  void connect();
  boost::asio::awaitable<void> open_connection();
  // The connection cannot go on: closed, and every read failed with `error`.
  void fail_all(const StoreError& error);
  void broken(std::string_view what);
  void close();
  static void answer(Entry& entry, StoreResult<ResultHandle> outcome);

  boost::asio::any_io_executor executor_;
  PipelineOptions options_;
  Connector& connector_;
  AsyncConnection connection_;
  // Reads not sent yet, then the ones sent, oldest first.
  std::deque<Entry> unsent_;
  std::deque<Entry> sent_;
  // The head of sent_ has waited for its answer since then.
  Clock::time_point head_since_{};
  bool awaiting_sync_ = false;
  bool flush_posted_ = false;
  bool connecting_ = false;
  bool reading_ = false;
  bool writing_ = false;
  // Tells a wait of a closed connection from one of the current one.
  std::uint64_t generation_ = 0;
  // One timer for every deadline: armed for the earliest, and re-armed when
  // it fires, never per read (a re-armed timer is a system call).
  boost::asio::steady_timer watchdog_;
  Clock::time_point watchdog_at_ = Clock::time_point::max();
};

}  // namespace users::storage::postgres
