// DRF's throttling (THROTTLE_RATE per principal, THROTTLE_ANON_RATE per
// client address): a rate, a table of who spent how much of it, and DRF's
// words for a refusal. Counters live in this process only (see
// docs/DEPLOYMENT.md for the cluster-wide layer in front).
#pragma once

#include <array>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace users::api {

struct Rate {
  std::uint32_t requests = 0;
  std::chrono::seconds period{0};
};

// DRF's syntax: "N/period", where only the period's first letter counts
// (s, m, h or d: "5/second", "5/sec" and "5/s" are one rate, as in DRF's
// SimpleRateThrottle.parse_rate). N is a positive integer. The error says what
// was expected.
boost::system::result<Rate, std::string> parse_rate(std::string_view text);

// How many keys a Throttle remembers by default. Past it, a new key makes the
// table forget the key seen least recently (that client starts afresh with a
// full burst); memory stays under about this many keys × (200 bytes + the
// key's length), some 16 MiB, whatever the number of clients.
inline constexpr std::size_t kMaxThrottledKeys = 65536;

struct ThrottleVerdict {
  bool allowed = true;
  std::chrono::seconds retry_after{0};  // when refused: the wait, rounded up, at least 1 s
};

// A bounded, thread-safe table of rates spent, one entry per key (a principal
// name or a client address). GCRA (the token bucket as one timestamp per key):
// a key may send `requests` at once, then one more each period/requests; a
// refusal does not spend anything. Keys are spread over mutex-guarded shards,
// so IO threads seldom wait on each other; checking a key already present
// allocates nothing.
class Throttle {
 public:
  using Clock = std::chrono::steady_clock;

  // Keys go to shard std::hash<std::string_view>(key) % kShards (fewer
  // shards when max_keys is smaller), each holding max_keys / shards keys.
  static constexpr std::size_t kShards = 16;

  explicit Throttle(Rate rate, std::size_t max_keys = kMaxThrottledKeys);

  // `now` comes from the caller so that tests can move time.
  ThrottleVerdict check(std::string_view key, Clock::time_point now);
  ThrottleVerdict check(std::string_view key) { return check(key, Clock::now()); }

  [[nodiscard]] std::size_t tracked_keys() const;

 private:
  struct Entry {
    std::string key;
    Clock::rep next_free = 0;  // the theoretical arrival time, in Clock ticks
  };
  // Most recently seen first; the map's keys view the entries' strings, which
  // std::list never moves.
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> recency;
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
  };
  Clock::rep interval_;   // period / requests
  Clock::rep tolerance_;  // how far ahead of now next_free may run: period - interval
  std::size_t shard_count_;
  std::size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

// DRF's message for a 429: "Request was throttled. Expected available in N
// seconds." ("in 1 second." for one).
std::string throttled_message(std::chrono::seconds wait);

}  // namespace users::api
