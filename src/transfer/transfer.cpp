#include "transfer/transfer.hpp"

#include <fmt/format.h>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "transfer/fixture.hpp"

namespace users::transfer {
namespace {

using domain::User;
using domain::UserId;
using Cause = storage::BatchFailure::Cause;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunkBytes = std::size_t{64} * 1024;
constexpr std::size_t kWriteFlushBytes = std::size_t{64} * 1024;
constexpr std::chrono::milliseconds kProgressInterval{250};

TransferError failed(std::string message) {
  return {TransferError::Kind::kFailed, std::move(message)};
}
TransferError bad_input(std::string message) {
  return {TransferError::Kind::kBadInput, std::move(message)};
}
TransferError database_failure(std::string_view doing, const storage::StoreError& error) {
  return failed(fmt::format("{}: {}", doing, error.detail));
}

std::string last_error_text() {
  return std::generic_category().message(errno);
}

// Every record of the file, a chunk at a time, to `on_records`.
template <typename OnRecords>
TransferResult<std::int64_t> read_fixture(const std::string& path, OnRecords on_records) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return bad_input(fmt::format("{}: {}", path, last_error_text()));
  FixtureReader reader;
  std::vector<FixtureRecord> records;
  std::vector<char> chunk(kReadChunkBytes);
  std::int64_t count = 0;
  auto deliver = [&]() -> TransferResult<void> {
    count += static_cast<std::int64_t>(records.size());
    if (!records.empty()) {
      if (auto taken = on_records(records); !taken) return taken.error();
    }
    records.clear();
    return {};
  };
  while (file) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(file.gcount());
    if (got == 0) break;
    auto fed = reader.feed(std::string_view(chunk.data(), got), records);
    if (auto delivered = deliver(); !delivered) return delivered.error();
    if (!fed) return bad_input(fmt::format("{}: {}", path, fed.error().to_string()));
  }
  if (file.bad()) return failed(fmt::format("{}: read failed", path));
  auto finished = reader.finish(records);
  if (auto delivered = deliver(); !delivered) return delivered.error();
  if (!finished) return bad_input(fmt::format("{}: {}", path, finished.error().to_string()));
  return count;
}

// The users of one batch, each id once: a later record of an id replaces an
// earlier one, as it would in Django's loaddata.
class Batch {
 public:
  void add(const FixtureRecord& record) {
    const auto [slot, inserted] = index_.try_emplace(record.user.id, users_.size());
    if (!inserted) {
      users_[slot->second] = record.user;
      positions_[slot->second] = record.position;
      return;
    }
    users_.push_back(record.user);
    positions_.push_back(record.position);
  }
  [[nodiscard]] bool full() const { return users_.size() >= kBatchSize; }
  [[nodiscard]] bool empty() const { return users_.empty(); }
  [[nodiscard]] const std::vector<User>& users() const { return users_; }
  [[nodiscard]] std::size_t position(std::size_t row) const { return positions_[row]; }
  void clear() {
    users_.clear();
    positions_.clear();
    index_.clear();
  }

 private:
  std::vector<User> users_;
  std::vector<std::size_t> positions_;
  std::unordered_map<UserId, std::size_t> index_;
};

TransferError describe_load_failure(const std::string& path, const Batch& batch, const storage::BatchFailure& failure) {
  if (!failure.row) return database_failure(fmt::format("{}: writing a batch", path), failure.error);
  const User& user = batch.users()[*failure.row];
  const std::string where = fmt::format("{}: record {} (pk {})", path, batch.position(*failure.row), user.id);
  switch (failure.cause) {
    case Cause::kDniTaken:
      return bad_input(fmt::format("{}: dni \"{}\" is already taken by another user; nothing of its batch was written",
                                   where, user.dni));
    case Cause::kIdTaken: return bad_input(fmt::format("{}: id {} is already taken", where, user.id));
    case Cause::kDatabase: break;
  }
  return database_failure(where, failure.error);
}

TransferResult<void> write_records(storage::UserTable& table, const std::string& path) {
  Batch batch;
  auto flush = [&]() -> TransferResult<void> {
    if (batch.empty()) return {};
    if (auto written = table.write(batch.users(), storage::IdPolicy::kReplaceExisting); !written) {
      return describe_load_failure(path, batch, written.error());
    }
    batch.clear();
    return {};
  };
  auto read = read_fixture(path, [&](const std::vector<FixtureRecord>& records) -> TransferResult<void> {
    for (const auto& record : records) {
      batch.add(record);
      if (batch.full()) {
        if (auto flushed = flush(); !flushed) return flushed.error();
      }
    }
    return {};
  });
  if (!read) return read.error();
  return flush();
}

// Reads every user of `table` in keyset pages, from one snapshot.
template <typename OnPage>
TransferResult<void> for_each_page(storage::UserTable& table, std::string_view what, OnPage on_page) {
  if (auto begun = table.begin_snapshot(); !begun) return database_failure(what, begun.error());
  std::vector<User> page;
  page.reserve(kBatchSize);
  UserId after = 0;
  while (true) {
    if (auto read = table.read_page(after, kBatchSize, page); !read) {
      (void)table.end_snapshot();
      return database_failure(what, read.error());
    }
    if (page.empty()) break;
    after = page.back().id;
    if (auto taken = on_page(page); !taken) {
      (void)table.end_snapshot();
      return taken.error();
    }
  }
  if (auto ended = table.end_snapshot(); !ended) return database_failure(what, ended.error());
  return {};
}

TransferResult<TableChecksum> checksum_of(storage::UserTable& table, std::string_view what) {
  TableChecksum checksum;
  auto read = for_each_page(table, what, [&](const std::vector<User>& page) -> TransferResult<void> {
    for (const auto& user : page) checksum.add(user);
    return {};
  });
  if (!read) return read.error();
  return checksum;
}

class ProgressLine {
 public:
  ProgressLine(const Status& status, std::int64_t total) : status_(status), total_(total) {}

  void update(std::int64_t done) {
    if (!status_.live) return;
    const auto now = Clock::now();
    if (now - shown_ < kProgressInterval && done < total_) return;
    shown_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    fmt::print(status_.stream, "\rcopied {} of {} users, {:.0f} users/s, {:.0f} s left\x1b[K", done, total_, rate,
               left);
    std::fflush(status_.stream);
  }
  void finish() const {
    if (status_.live) fmt::print(status_.stream, "\n");
  }
  [[nodiscard]] double seconds() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

 private:
  const Status& status_;
  std::int64_t total_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point shown_{};
};

}  // namespace

TransferResult<std::int64_t> dumpdata(storage::UserTable& table, std::ostream& out, int indent) {
  FixtureWriter writer(indent);
  std::string buffer;
  buffer.reserve(kWriteFlushBytes * 2);
  auto flush = [&]() -> TransferResult<void> {
    if (!out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()))) {
      return failed(fmt::format("cannot write: {}", last_error_text()));
    }
    buffer.clear();
    return {};
  };
  writer.begin(buffer);
  std::int64_t count = 0;
  auto read = for_each_page(table, "reading users", [&](const std::vector<User>& page) -> TransferResult<void> {
    for (const auto& user : page) writer.add(user, buffer);
    count += static_cast<std::int64_t>(page.size());
    if (buffer.size() >= kWriteFlushBytes) return flush();
    return {};
  });
  if (!read) return read.error();
  writer.end(buffer);
  if (auto flushed = flush(); !flushed) return flushed.error();
  if (!out.flush()) return failed(fmt::format("cannot write: {}", last_error_text()));
  return count;
}

TransferResult<LoadReport> loaddata(storage::UserTable& table, const std::string& path, bool dry_run) {
  // First pass: the whole file's shape and every record, before any write.
  auto checked = read_fixture(path, [](const std::vector<FixtureRecord>&) -> TransferResult<void> { return {}; });
  if (!checked) return checked.error();

  LoadReport report;
  report.records = *checked;
  auto before = table.count();
  if (!before) return database_failure("counting users", before.error());
  report.users_before = *before;
  if (dry_run) {
    if (auto begun = table.begin_trial(); !begun) return database_failure("starting the dry run", begun.error());
  }
  auto written = write_records(table, path);
  auto after = written ? table.count() : storage::StoreResult<std::int64_t>(0);
  if (dry_run) {
    if (auto undone = table.rollback_trial(); !undone && written) {
      return database_failure("undoing the dry run", undone.error());
    }
  }
  // Batches committed before a failure keep their ids too: the sequence
  // must pass them whatever happens next.
  if (!dry_run) {
    if (auto advanced = table.advance_id_sequence(); !advanced && written) {
      return database_failure("moving the id sequence", advanced.error());
    }
  }
  if (!written) return written.error();
  if (!after) return database_failure("counting users", after.error());
  report.users_after = *after;
  return report;
}

TransferResult<CopyReport> copy(storage::UserTable& from, storage::UserTable& to, bool append, const Status& status) {
  auto held = to.count();
  if (!held) return database_failure("destination", held.error());
  if (*held > 0 && !append) {
    return bad_input(fmt::format(
        "the destination already holds {} users; copy refuses to mix tables unless --append is given", *held));
  }
  TableChecksum destination_before;
  if (*held > 0) {
    auto summed = checksum_of(to, "destination");
    if (!summed) return summed.error();
    destination_before = *summed;
  }
  auto total = from.count();
  if (!total) return database_failure("source", total.error());

  CopyReport report;
  ProgressLine progress(status, *total);
  auto copied = for_each_page(from, "source", [&](const std::vector<User>& page) -> TransferResult<void> {
    if (auto written = to.write(page, storage::IdPolicy::kRefuseExisting); !written) {
      const auto& failure = written.error();
      if (!failure.row) return database_failure("destination", failure.error);
      const User& user = page[*failure.row];
      if (failure.cause == Cause::kIdTaken) {
        return bad_input(fmt::format("user {}: the destination already has a user with this id", user.id));
      }
      if (failure.cause == Cause::kDniTaken) {
        return bad_input(
            fmt::format("user {}: the destination already has dni \"{}\" on another id", user.id, user.dni));
      }
      return database_failure(fmt::format("destination, user {}", user.id), failure.error);
    }
    for (const auto& user : page) report.copied.add(user);
    progress.update(report.copied.count());
    return {};
  });
  progress.finish();
  if (!copied) return copied.error();
  if (auto advanced = to.advance_id_sequence(); !advanced) {
    return database_failure("moving the destination's id sequence", advanced.error());
  }
  report.seconds = progress.seconds();
  // Reading both tables again takes a second or two per million users.
  if (status.live) fmt::print(status.stream, "verifying: reading both sides again\n");

  auto destination = checksum_of(to, "verifying the destination");
  if (!destination) return destination.error();
  report.destination = *destination;
  if (report.destination != destination_before + report.copied) {
    return failed(fmt::format(
        "verification failed: the destination holds {} users (checksum {:016x}), expected {} (checksum {:016x})",
        report.destination.count(), report.destination.sum(), (destination_before + report.copied).count(),
        (destination_before + report.copied).sum()));
  }
  auto source_now = checksum_of(from, "verifying the source");
  if (!source_now) return source_now.error();
  if (*source_now != report.copied) {
    return failed(fmt::format(
        "the source changed during the copy (it now holds {} users, {} were copied): writes reached it after the "
        "copy began; stop them and copy again into an empty destination",
        source_now->count(), report.copied.count()));
  }
  return report;
}

}  // namespace users::transfer
