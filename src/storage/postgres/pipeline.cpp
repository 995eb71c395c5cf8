#include "storage/postgres/pipeline.hpp"

#include <fmt/format.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <utility>

namespace users::storage::postgres {
namespace asio = boost::asio;
using Kind = StoreError::Kind;
using WaitType = asio::posix::descriptor_base::wait_type;

namespace {

// A read skipped because an earlier one of its batch failed is sent again;
// one skipped this often fails instead (a server failing everything).
constexpr std::uint8_t kMaxAttempts = 3;

}  // namespace

ReadPipeline::ReadPipeline(const asio::any_io_executor& executor, std::shared_ptr<const ConnectionSettings> settings,
                           PipelineOptions options, Connector& connector)
    : executor_(executor),
      options_(options),
      connector_(connector),
      connection_(executor, std::move(settings)),
      watchdog_(executor) {}

ReadPipeline::~ReadPipeline() = default;

asio::awaitable<StoreResult<ResultHandle>> ReadPipeline::run(Read read) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(StoreResult<ResultHandle>)>(
      [this, read](auto handler) { enqueue(read, Completion(std::move(handler))); }, asio::use_awaitable);
}

void ReadPipeline::enqueue(Read read, Completion done) {
  const std::size_t waiting = unsent_.size() + sent_.size();
  if (waiting >= options_.max_reads) {
    // Answered from the event loop: never from inside the call that asked.
    asio::post(executor_, [done = std::move(done), waiting]() mutable {
      std::move(done)(
          StoreError{Kind::kBusy, fmt::format("{} reads already wait for the database on this thread", waiting)});
    });
    return;
  }
  const auto now = Clock::now();
  unsent_.push_back(Entry{read, now, std::move(done), nullptr});
  schedule_flush();
  arm_watchdog(now + (waiting > 0 ? Clock::duration(options_.queue_timeout) : statement_limit()));
}

// Once per turn of the event loop, however many reads arrive in it.
void ReadPipeline::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [this] { flush(); });
}

void ReadPipeline::flush() {
  flush_posted_ = false;
  if (connecting_ || unsent_.empty()) return;
  const bool idle = sent_.empty() && !awaiting_sync_;
  // An idle connection may have been ended by the server since (a restart
  // says goodbye, then closes): found out here, before any read is lost in it.
  if (connection_.connected() && idle && !connection_.still_usable()) close();
  if (!connection_.connected()) return connect();

  PGconn* pg = connection_.native_handle();
  bool any = false;
  while (!unsent_.empty()) {
    Entry& entry = unsent_.front();
    if (!entry.done) {  // gave up while waiting for a connection
      unsent_.pop_front();
      continue;
    }
    const int count = static_cast<int>(entry.read.params.size());
    const int queued =
        entry.read.prepared != nullptr
            ? PQsendQueryPrepared(pg, entry.read.prepared, count, entry.read.params.data(), nullptr, nullptr, 0)
            : PQsendQueryParams(pg, entry.read.sql, count, nullptr, entry.read.params.data(), nullptr, nullptr, 0);
    if (queued == 0) {
      // Sent again on a new connection, but not for ever.
      if (++entry.attempts >= kMaxAttempts) {
        answer(entry, StoreError{Kind::kUnavailable,
                                 "cannot send a statement: " + connection_.settings().clean(PQerrorMessage(pg))});
        unsent_.pop_front();
      }
      return broken("cannot send a statement");
    }
    ++entry.attempts;
    entry.skipped = false;
    entry.sync_after = false;
    entry.result.reset();
    if (sent_.empty()) head_since_ = Clock::now();
    sent_.push_back(std::move(entry));
    unsent_.pop_front();
    any = true;
  }
  if (!any) return disarm_when_idle();  // every read had given up
  sent_.back().sync_after = true;
  if (PQpipelineSync(pg) == 0) return broken("cannot send a statement");
  continue_flush();
  arm_read();
}

// Sends what libpq still holds, waiting for the socket when it is full.
void ReadPipeline::continue_flush() {
  if (!connection_.connected() || writing_) return;
  const int flushed = PQflush(connection_.native_handle());
  if (flushed < 0) return broken("cannot send a statement");
  if (flushed == 0) return;
  writing_ = true;
  connection_.socket().async_wait(
      WaitType::wait_write, [this, generation = generation_](const boost::system::error_code& ec) {
        if (generation != generation_) return;
        writing_ = false;
        if (ec)
          return fail_all(StoreError{Kind::kUnavailable, fmt::format("cannot send a statement: {}", ec.message())});
        // As libpq asks of a non-blocking sender: take in what the server
        // sent meanwhile, so that neither side waits for the other.
        if (PQconsumeInput(connection_.native_handle()) == 0) return broken("connection lost");
        drain();
        continue_flush();
      });
}

void ReadPipeline::arm_read() {
  if (reading_ || !connection_.connected() || (sent_.empty() && !awaiting_sync_)) return;
  reading_ = true;
  connection_.socket().async_wait(WaitType::wait_read,
                                  [this, generation = generation_](const boost::system::error_code& ec) {
                                    if (generation != generation_) return;
                                    reading_ = false;
                                    on_readable(ec);
                                  });
}

void ReadPipeline::on_readable(const boost::system::error_code& ec) {
  if (ec) return fail_all(StoreError{Kind::kUnavailable, fmt::format("connection lost: {}", ec.message())});
  if (PQconsumeInput(connection_.native_handle()) == 0) return broken("connection lost");
  drain();
  continue_flush();
  arm_read();
  disarm_when_idle();
}

// Nothing may stay armed once nothing waits: a pending timer would keep the
// thread's io_context from running out of work, which is how it stops.
void ReadPipeline::disarm_when_idle() {
  if (!sent_.empty() || !unsent_.empty() || awaiting_sync_ || watchdog_at_ == Clock::time_point::max()) return;
  watchdog_at_ = Clock::time_point::max();
  watchdog_.cancel();
}

// Hands out every result libpq has complete, in order.
void ReadPipeline::drain() {
  while (connection_.connected() && (!sent_.empty() || awaiting_sync_)) {
    PGconn* pg = connection_.native_handle();
    if (PQisBusy(pg) != 0) return;  // the rest has not arrived
    ResultHandle next(PQgetResult(pg));
    // libpq returns no null after a Sync's result, and one after each
    // statement's results.
    if (awaiting_sync_) {
      if (!next || PQresultStatus(next.get()) != PGRES_PIPELINE_SYNC) {
        return broken("a pipeline's results came out of order");
      }
      awaiting_sync_ = false;
      continue;
    }
    if (!next) {
      finish_head();
      continue;
    }
    Entry& head = sent_.front();
    const auto status = PQresultStatus(next.get());
    if (status == PGRES_PIPELINE_SYNC) return broken("a pipeline's results came out of order");
    if (status == PGRES_PIPELINE_ABORTED) {
      head.skipped = true;
      continue;
    }
    // Keep the first error; otherwise the last result.
    if (!head.result || !result_error(connection_.settings(), pg, head.result.get())) head.result = std::move(next);
  }
}

void ReadPipeline::finish_head() {
  Entry entry = std::move(sent_.front());
  sent_.pop_front();
  head_since_ = Clock::now();
  if (entry.sync_after) awaiting_sync_ = true;
  if (!entry.done) return;  // it gave up waiting: nobody to answer
  if (entry.skipped) {
    if (entry.attempts < kMaxAttempts) {
      unsent_.push_back(std::move(entry));
      schedule_flush();
      return;
    }
    return answer(entry, StoreError{Kind::kUnavailable, "skipped by PostgreSQL: every attempt followed a failure"});
  }
  auto error = result_error(connection_.settings(), connection_.native_handle(), entry.result.get());
  if (!error) return answer(entry, std::move(entry.result));
  const bool timed_out = error->sqlstate == "57014";
  answer(entry, error->to_store_error());
  if (!timed_out || sent_.empty()) return;
  // The server's statement timeout ended this read: the ones behind it are
  // already in the server's queue and would each run into the same wait, one
  // after another. Closing the connection drops them there; those still
  // waiting here go again on a new connection.
  // Back to front, so that they keep their order.
  for (std::size_t i = sent_.size(); i-- > 0;) {
    if (sent_[i].done) unsent_.push_front(std::move(sent_[i]));
  }
  sent_.clear();
  close();
  schedule_flush();
}

void ReadPipeline::answer(Entry& entry, StoreResult<ResultHandle> outcome) {
  if (!entry.done) return;
  Completion done = std::move(entry.done);
  entry.done = {};
  // Resumes the request here and now; it may queue a read of its own, which
  // only appends to unsent_.
  std::move(done)(std::move(outcome));
}

// The earliest deadline of what is queued: the head's answer, or another
// read's turn.
std::optional<ReadPipeline::Clock::time_point> ReadPipeline::next_deadline() const {
  std::optional<Clock::time_point> next;
  auto consider = [&next](Clock::time_point at) {
    if (!next || at < *next) next = at;
  };
  if (!sent_.empty()) consider(head_since_ + statement_limit());
  for (std::size_t i = 1; i < sent_.size(); ++i) {
    if (sent_[i].done) consider(sent_[i].queued_at + options_.queue_timeout);
  }
  // While connecting, the first read waits for the connection (up to
  // connect_timeout), the others their turn, as a pool's waiters would.
  for (std::size_t i = connecting_ ? 1 : 0; i < unsent_.size(); ++i) {
    if (unsent_[i].done) consider(unsent_[i].queued_at + options_.queue_timeout);
  }
  return next;
}

ReadPipeline::Clock::duration ReadPipeline::statement_limit() const {
  return connection_.settings().statement_timeout + kClientGrace;
}

// Moved only to an earlier time: under load the timer is armed long before
// and fires about once per queue_timeout, not once per read.
void ReadPipeline::arm_watchdog(Clock::time_point at) {
  if (at >= watchdog_at_) return;
  watchdog_at_ = at;
  watchdog_.expires_at(at);
  watchdog_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed for earlier, or going away
    watchdog_at_ = Clock::time_point::max();
    on_watchdog();
  });
}

void ReadPipeline::on_watchdog() {
  const auto now = Clock::now();
  const auto& settings = connection_.settings();
  if (!sent_.empty() && now >= head_since_ + statement_limit()) {
    // The server's own timeout would have answered by now: it cannot answer
    // at all (stopped, or cut off by the network).
    fail_all(StoreError{Kind::kUnavailable,
                        fmt::format("no answer from PostgreSQL within the statement timeout ({} ms); connection closed",
                                    settings.statement_timeout.count())});
  } else {
    const StoreError busy{Kind::kBusy, fmt::format("the thread's database connection stayed busy for {} ms",
                                                   options_.queue_timeout.count())};
    // By index: an answer resumes a request, which may append to unsent_.
    for (std::size_t i = 1; i < sent_.size(); ++i) {
      if (sent_[i].done && sent_[i].queued_at + options_.queue_timeout <= now) answer(sent_[i], busy);
    }
    for (std::size_t i = connecting_ ? 1 : 0; i < unsent_.size(); ++i) {
      if (unsent_[i].done && unsent_[i].queued_at + options_.queue_timeout <= now) answer(unsent_[i], busy);
    }
  }
  if (const auto next = next_deadline()) arm_watchdog(*next);
}

void ReadPipeline::connect() {
  connecting_ = true;
  asio::co_spawn(executor_, open_connection(), asio::detached);
}

asio::awaitable<void> ReadPipeline::open_connection() {
  auto opening = connector_.open(connection_);
  auto opened = co_await std::move(opening);
  connecting_ = false;
  if (opened && PQenterPipelineMode(connection_.native_handle()) == 0) {
    opened =
        StoreError{Kind::kUnavailable, "cannot enter pipeline mode: " +
                                           connection_.settings().clean(PQerrorMessage(connection_.native_handle()))};
    close();
  }
  if (!opened) {
    // Nothing was sent: the reads that waited for this connection get its
    // failure (later ones try again, after the back-off).
    auto waiting = std::exchange(unsent_, {});
    for (Entry& entry : waiting) answer(entry, opened.error());
    disarm_when_idle();
    co_return;
  }
  schedule_flush();
  if (const auto next = next_deadline()) arm_watchdog(*next);
}

void ReadPipeline::broken(std::string_view what) {
  PGconn* pg = connection_.native_handle();
  fail_all(StoreError{Kind::kUnavailable, fmt::format("{}: {}", what,
                                                      pg != nullptr ? connection_.settings().clean(PQerrorMessage(pg))
                                                                    : std::string("no connection"))});
}

// The reads sent on the connection fail with it; those not sent yet go on
// a new one.
void ReadPipeline::fail_all(const StoreError& error) {
  close();
  auto failed = std::exchange(sent_, {});
  for (Entry& entry : failed) answer(entry, error);
  if (!unsent_.empty()) schedule_flush();
  disarm_when_idle();
}

void ReadPipeline::close() {
  ++generation_;
  reading_ = false;
  writing_ = false;
  awaiting_sync_ = false;
  connection_.close();
}

}  // namespace users::storage::postgres
