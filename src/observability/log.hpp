// Structured logs on stdout: one JSON object per line (LOG_FORMAT=json, for
// collectors) or readable "key=value" text (LOG_FORMAT=text, for a terminal).
// Lines are formatted by the caller and written by a logger thread through a
// queue bounded in lines and bytes (log_writer.hpp), so a slow stdout never
// blocks an IO thread: when the queue is full the line is dropped and counted.
// Whatever bytes a value holds, a line stays one line of valid UTF-8 (valid
// JSON in the JSON format) with controls and bidirectional characters escaped,
// and values a client chooses are cut (the path to 1024 bytes, other values to
// 256; log_escape.hpp).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "observability/log_writer.hpp"

namespace users::observability {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Format { kJson, kText };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);
// "json", "text", or "auto" (text when stdout is a terminal, else json).
std::optional<Format> parse_format(std::string_view name);
std::string_view format_name(Format format);

// Process-wide (stdout is one stream); thread-safe.
void configure_logging(Level level, Format format);
[[nodiscard]] bool log_enabled(Level level);
void log(Level level, std::string_view message, const boost::json::object& fields = {});
void configure_log_limits(const LogQueueLimits& limits);
// Writes everything queued so far; returns once it is on stdout, or at
// `deadline`, after which writes that stdout blocks are given up (and counted
// as dropped). True when everything was written.
bool flush_logs(std::chrono::steady_clock::time_point deadline);
[[nodiscard]] std::uint64_t dropped_log_lines();

inline void log_info(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kInfo, message, fields);
}
inline void log_warning(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kWarning, message, fields);
}
inline void log_error(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kError, message, fields);
}

// One successful write, as "msg":"audit" at level info. Written whatever
// LOG_LEVEL says: raising the level to quiet the access log must not erase
// the record of who changed what.
void log_audit(const boost::json::object& fields);

// One answered request, for the access log.
struct AccessRecord {
  std::string_view method;
  std::string_view route;  // template, e.g. /api/users/{id}/
  std::string_view path;   // as requested
  unsigned status = 0;
  std::uint64_t bytes = 0;
  std::chrono::microseconds duration{0};
  std::string_view peer;
  std::string_view request_id;
  std::string_view client;     // the address the request is attributed to
  std::string_view principal;  // who authenticated; empty: no one
  bool complete = true;        // false: the response was cut short after `bytes`
};

// The hot path: formats without building a JSON document.
void log_access(Level level, const AccessRecord& record);

}  // namespace users::observability
