// Structured logs: one JSON object per line on stdout, so that any log
// collector can read them without a parser of its own.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

namespace users::observability {

enum class Level { kDebug, kInfo, kWarning, kError };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// Process-wide: stdout is one stream. Thread-safe.
void set_log_level(Level level);
[[nodiscard]] bool log_enabled(Level level);
void log(Level level, std::string_view message, const boost::json::object& fields = {});

inline void log_info(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kInfo, message, fields);
}
inline void log_warning(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kWarning, message, fields);
}
inline void log_error(std::string_view message, const boost::json::object& fields = {}) {
  log(Level::kError, message, fields);
}

}  // namespace users::observability
