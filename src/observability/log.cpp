#include "observability/log.hpp"

#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <array>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <concepts>
#include <string>

#include "observability/log_escape.hpp"
#include "observability/log_writer.hpp"

namespace users::observability {
namespace {

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

// How much of a value a line carries: a client chooses the path and the
// headers, so they are cut before they reach the queue.
constexpr std::size_t kMaxLoggedPathBytes = 1024;
constexpr std::size_t kMaxLoggedValueBytes = 256;

// The line under construction: one buffer per thread, reused, so that a line
// costs no allocation once the buffer has grown to a line's size.
std::string& line_buffer() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

// fmt::format_int: no format string to parse on the hot path.
void append_number(std::string& out, std::integral auto value) {
  const fmt::format_int digits(value);
  out.append(digits.data(), digits.size());
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
  std::array<char, 8> fraction{'.', '0', '0', '0', '0', '0', '0', 'Z'};
  auto rest = micros % 1'000'000;
  for (std::size_t digit = 6; rest != 0; --digit, rest /= 10) fraction.at(digit) = static_cast<char>('0' + rest % 10);
  out.append(fraction.data(), fraction.size());
}

// Text values: bare when they are simple, quoted (JSON-style, with the same
// escapes) otherwise. True when the value was cut.
bool append_text_value(std::string& out, std::string_view value, std::size_t max_bytes = kMaxLoggedValueBytes) {
  if (value.size() <= max_bytes && is_bare_log_text(value)) {
    out += value;
    return false;
  }
  return append_log_string(out, value, max_bytes);
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

void write_line(Level level, std::string_view message, const boost::json::object& fields);

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
  write_line(level, message, fields);
}

void log_audit(const boost::json::object& fields) {
  write_line(Level::kInfo, "audit", fields);
}

namespace {

void write_line(Level level, std::string_view message, const boost::json::object& fields) {
  auto& line = line_buffer();
  if (format_setting().load(std::memory_order_relaxed) == Format::kText) {
    append_timestamp(line);
    line += ' ';
    line += level_label(level);
    line += ' ';
    line += message;
    for (const auto& field : fields) {
      line += ' ';
      append_text_value(line, field.key());
      line += '=';
      if (field.value().is_string()) {
        append_text_value(line, field.value().get_string());
      } else {
        append_log_json(line, boost::json::serialize(field.value()));
      }
    }
  } else {
    line += R"({"time":")";
    append_timestamp(line);
    line += R"(","level":)";
    append_log_string(line, level_name(level), kMaxLoggedValueBytes);
    line += R"(,"msg":)";
    append_log_string(line, message, kMaxLoggedValueBytes);
    for (const auto& field : fields) {
      line += ',';
      append_log_string(line, field.key(), kMaxLoggedValueBytes);
      line += ':';
      if (field.value().is_string()) {
        append_log_string(line, field.value().get_string(), kMaxLoggedValueBytes);
      } else {
        append_log_json(line, boost::json::serialize(field.value()));
      }
    }
    line += '}';
  }
  line += '\n';
  enqueue_log_line(line);
}

}  // namespace

void log_access(Level level, const AccessRecord& record) {
  if (!log_enabled(level)) return;
  auto& line = line_buffer();
  bool path_cut = false;
  if (format_setting().load(std::memory_order_relaxed) == Format::kText) {
    append_timestamp(line);
    line += ' ';
    line += level_label(level);
    line += ' ';
    append_text_value(line, record.method);
    line += ' ';
    path_cut = append_text_value(line, record.path, kMaxLoggedPathBytes);
    line += ' ';
    append_number(line, record.status);
    line += ' ';
    append_number(line, record.bytes);
    line += "B ";
    append_number(line, record.duration.count());
    line += "us route=";
    line += record.route;
    line += " peer=";
    append_text_value(line, record.peer);
    line += " request_id=";
    append_text_value(line, record.request_id);
    line += " client=";
    append_text_value(line, record.client);
    if (!record.principal.empty()) {
      line += " principal=";
      append_text_value(line, record.principal);
    }
    if (!record.complete) line += " complete=false";
    if (path_cut) line += " path_truncated=true";
  } else {
    line += R"({"time":")";
    append_timestamp(line);
    line += R"(","level":")";
    line += level_name(level);
    line += R"(","msg":"request","method":)";
    append_log_string(line, record.method, kMaxLoggedValueBytes);
    line += R"(,"route":)";
    append_log_string(line, record.route, kMaxLoggedValueBytes);
    line += R"(,"path":)";
    path_cut = append_log_string(line, record.path, kMaxLoggedPathBytes);
    line += R"(,"status":)";
    append_number(line, record.status);
    line += R"(,"bytes":)";
    append_number(line, record.bytes);
    line += R"(,"duration_us":)";
    append_number(line, record.duration.count());
    line += R"(,"peer":)";
    append_log_string(line, record.peer, kMaxLoggedValueBytes);
    line += R"(,"request_id":)";
    append_log_string(line, record.request_id, kMaxLoggedValueBytes);
    line += R"(,"client":)";
    append_log_string(line, record.client, kMaxLoggedValueBytes);
    if (!record.principal.empty()) {
      line += R"(,"principal":)";
      append_log_string(line, record.principal, kMaxLoggedValueBytes);
    }
    if (!record.complete) line += R"(,"complete":false)";
    if (path_cut) line += R"(,"path_truncated":true)";
    line += '}';
  }
  line += '\n';
  enqueue_log_line(line);
}

void configure_log_limits(const LogQueueLimits& limits) {
  configure_log_queue(limits);
}

bool flush_logs(std::chrono::steady_clock::time_point deadline) {
  return flush_log_queue(deadline);
}

std::uint64_t dropped_log_lines() {
  return dropped_log_queue_lines();
}

}  // namespace users::observability
