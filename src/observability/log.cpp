#include "observability/log.hpp"

#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/json_string.hpp"

namespace users::observability {
namespace {

constexpr std::size_t kMaxQueuedLines = 16384;

// The process's log settings, set once by configure_logging. Function-local
// statics, constant-initialised: no guard on the hot path.
std::atomic<Level>& level_setting() {
  static std::atomic<Level> level{Level::kInfo};
  return level;
}
std::atomic<Format>& format_setting() {
  static std::atomic<Format> format{Format::kJson};
  return format;
}

// The logger thread and its queue. Started on first use; its destructor (at
// exit) writes what is left.
class LineWriter {
 public:
  LineWriter() : thread_([this] { run(); }) {}
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;
  LineWriter(LineWriter&&) = delete;
  LineWriter& operator=(LineWriter&&) = delete;
  ~LineWriter() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

  void push(std::string line) {
    {
      const std::lock_guard lock(mutex_);
      if (queue_.size() >= kMaxQueuedLines) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(line));
    }
    ready_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    const auto target = pushed_total();
    written_.wait(lock, [&] { return written_lines_ >= target; });
  }

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::uint64_t pushed_total() const { return written_lines_ + queue_.size() + in_progress_; }

  void run() {
    std::deque<std::string> batch;
    std::string buffer;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        batch.swap(queue_);
        in_progress_ = batch.size();
      }
      buffer.clear();
      for (const auto& line : batch) buffer += line;
      std::fwrite(buffer.data(), 1, buffer.size(), stdout);
      std::fflush(stdout);
      {
        const std::lock_guard lock(mutex_);
        written_lines_ += batch.size();
        in_progress_ = 0;
      }
      written_.notify_all();
      batch.clear();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable written_;
  std::deque<std::string> queue_;
  std::uint64_t written_lines_ = 0;
  std::size_t in_progress_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;  // last: starts once the members above exist
};

LineWriter& writer() {
  static LineWriter instance;
  return instance;
}

// "2026-11-25T12:00:00.123456Z"; the seconds part is formatted once a second
// per thread.
void append_timestamp(std::string& out) {
  thread_local std::int64_t cached_second = -1;
  thread_local std::string cached_text;
  const auto now = std::chrono::system_clock::now();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const auto second = micros / 1'000'000;
  if (second != cached_second) {
    cached_second = second;
    cached_text = fmt::format("{:%Y-%m-%dT%H:%M:%S}", fmt::gmtime(static_cast<std::time_t>(second)));
  }
  out += cached_text;
  fmt::format_to(std::back_inserter(out), ".{:06}Z", micros % 1'000'000);
}

// Text values: bare when they are simple, quoted (JSON-style) otherwise.
void append_text_value(std::string& out, std::string_view value) {
  bool simple = !value.empty();
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F || c == '"' || c == '=' || c == '\\') simple = false;
  }
  if (simple) {
    out += value;
  } else {
    common::append_json_string(out, value);
  }
}

std::string_view level_label(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarning: return "WARN ";
    case Level::kError: return "ERROR";
  }
  return "INFO ";
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warning" || name == "warn") return Level::kWarning;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "json") return Format::kJson;
  if (name == "text") return Format::kText;
  if (name == "auto") return isatty(STDOUT_FILENO) != 0 ? Format::kText : Format::kJson;
  return std::nullopt;
}

std::string_view format_name(Format format) {
  return format == Format::kText ? "text" : "json";
}

void configure_logging(Level level, Format format) {
  level_setting().store(level, std::memory_order_relaxed);
  format_setting().store(format, std::memory_order_relaxed);
}

bool log_enabled(Level level) {
  return level >= level_setting().load(std::memory_order_relaxed);
}

void log(Level level, std::string_view message, const boost::json::object& fields) {
  if (!log_enabled(level)) return;
  std::string line;
  if (format_setting().load(std::memory_order_relaxed) == Format::kText) {
    append_timestamp(line);
    line += ' ';
    line += level_label(level);
    line += ' ';
    line += message;
    for (const auto& field : fields) {
      line += ' ';
      line += field.key();
      line += '=';
      if (field.value().is_string()) {
        append_text_value(line, field.value().get_string());
      } else {
        line += boost::json::serialize(field.value());
      }
    }
  } else {
    line = R"({"time":")";
    append_timestamp(line);
    line += R"(","level":)";
    common::append_json_string(line, level_name(level));
    line += R"(,"msg":)";
    common::append_json_string(line, message);
    for (const auto& field : fields) {
      line += ',';
      common::append_json_string(line, field.key());
      line += ':';
      line += boost::json::serialize(field.value());
    }
    line += '}';
  }
  line += '\n';
  writer().push(std::move(line));
}

void log_access(Level level, const AccessRecord& record) {
  if (!log_enabled(level)) return;
  std::string line;
  line.reserve(256);
  if (format_setting().load(std::memory_order_relaxed) == Format::kText) {
    append_timestamp(line);
    line += ' ';
    line += level_label(level);
    line += ' ';
    line += record.method;
    line += ' ';
    append_text_value(line, record.path);
    fmt::format_to(std::back_inserter(line), " {} {}B {}us route={} peer={} request_id=", record.status, record.bytes,
                   record.duration.count(), record.route, record.peer);
    append_text_value(line, record.request_id);
  } else {
    line = R"({"time":")";
    append_timestamp(line);
    fmt::format_to(std::back_inserter(line), R"(","level":"{}","msg":"request","method":)", level_name(level));
    common::append_json_string(line, record.method);
    line += R"(,"route":)";
    common::append_json_string(line, record.route);
    line += R"(,"path":)";
    common::append_json_string(line, record.path);
    fmt::format_to(std::back_inserter(line), R"(,"status":{},"bytes":{},"duration_us":{},"peer":)", record.status,
                   record.bytes, record.duration.count());
    common::append_json_string(line, record.peer);
    line += R"(,"request_id":)";
    common::append_json_string(line, record.request_id);
    line += '}';
  }
  line += '\n';
  writer().push(std::move(line));
}

void flush_logs() {
  writer().flush();
}

std::uint64_t dropped_log_lines() {
  return writer().dropped();
}

}  // namespace users::observability
