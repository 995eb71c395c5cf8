#include "api/throttle.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <functional>

namespace users::api {

namespace {

constexpr std::string_view kRateSyntax = "N/second, N/minute, N/hour or N/day (N a positive integer)";

}  // namespace

boost::system::result<Rate, std::string> parse_rate(std::string_view text) {
  const auto slash = text.find('/');
  const auto invalid = [&] { return fmt::format("expected {}, got \"{}\"", kRateSyntax, text); };
  // (DRF's rate.split('/') fails on a second slash too.)
  if (slash == std::string_view::npos || slash + 1 == text.size() ||
      text.find('/', slash + 1) != std::string_view::npos) {
    return invalid();
  }
  const std::string_view count = text.substr(0, slash);
  std::uint32_t requests = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), requests);
  if (ec != std::errc{} || end != count.data() + count.size() || requests == 0) return invalid();
  std::chrono::seconds period{0};
  switch (text[slash + 1]) {
    case 's': period = std::chrono::seconds(1); break;
    case 'm': period = std::chrono::minutes(1); break;
    case 'h': period = std::chrono::hours(1); break;
    case 'd': period = std::chrono::hours(24); break;
    default: return invalid();
  }
  return Rate{requests, period};
}

Throttle::Throttle(Rate rate, std::size_t max_keys)
    : interval_(std::max<Clock::rep>(1, std::chrono::duration_cast<Clock::duration>(rate.period).count() /
                                            std::max<Clock::rep>(1, rate.requests))),
      tolerance_(std::chrono::duration_cast<Clock::duration>(rate.period).count() - interval_),
      // Fewer shards than keys would let the table hold more than max_keys.
      shard_count_(std::clamp<std::size_t>(max_keys, 1, kShards)),
      shard_capacity_(std::max<std::size_t>(1, max_keys / shard_count_)) {}

ThrottleVerdict Throttle::check(std::string_view key, Clock::time_point now) {
  const Clock::rep ticks = now.time_since_epoch().count();
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % shard_count_];
  const std::scoped_lock lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    // A key not seen (or forgotten) is as good as one whose budget is full, so
    // the least recently seen entry is the cheapest to forget.
    if (shard.recency.size() >= shard_capacity_) {
      shard.index.erase(shard.recency.back().key);
      shard.recency.splice(shard.recency.begin(), shard.recency, std::prev(shard.recency.end()));
      shard.recency.front().key.assign(key);
      shard.recency.front().next_free = ticks;
    } else {
      shard.recency.push_front(Entry{std::string(key), ticks});
    }
    found = shard.index.emplace(shard.recency.front().key, shard.recency.begin()).first;
  } else if (found->second != shard.recency.begin()) {
    shard.recency.splice(shard.recency.begin(), shard.recency, found->second);
  }
  Entry& entry = *found->second;
  const Clock::rep next_free = std::max(entry.next_free, ticks);
  const Clock::rep ahead = next_free - ticks;
  if (ahead > tolerance_) {
    const auto wait = Clock::duration(ahead - tolerance_);
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait);
    return ThrottleVerdict{false, std::max(seconds, std::chrono::seconds(1))};
  }
  entry.next_free = next_free + interval_;
  return ThrottleVerdict{};
}

std::size_t Throttle::tracked_keys() const {
  std::size_t keys = 0;
  for (const auto& shard : shards_) {
    const std::scoped_lock lock(shard.mutex);
    keys += shard.recency.size();
  }
  return keys;
}

std::string throttled_message(std::chrono::seconds wait) {
  const auto count = wait.count();
  return fmt::format("Request was throttled. Expected available in {} second{}.", count, count == 1 ? "" : "s");
}

}  // namespace users::api
