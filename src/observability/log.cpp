#include "observability/log.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <mutex>

namespace users::observability {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_stdout_mutex;

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)), micros);
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

void set_log_level(Level level) { g_level.store(level, std::memory_order_relaxed); }

bool log_enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void log(Level level, std::string_view message, const boost::json::object& fields) {
  if (!log_enabled(level)) return;
  boost::json::object line;
  line["time"] = timestamp();
  line["level"] = level_name(level);
  line["msg"] = message;
  for (const auto& field : fields) line[field.key()] = field.value();
  std::string text = boost::json::serialize(line);
  text += '\n';
  const std::lock_guard lock(g_stdout_mutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace users::observability
