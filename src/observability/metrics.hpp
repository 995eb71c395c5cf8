// Prometheus metrics. Recording is lock-free: each thread adds to its own
// cache-line-aligned shard of relaxed atomic counters, and a scrape sums the
// shards. Label values come from fixed sets (route templates, methods, status
// classes), so the number of series is bounded whatever clients send.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace users::observability {

// Route labels: the caller's (the API's route table), then "other" for
// anything else; at most this many in all.
inline constexpr std::size_t kMaxRouteLabels = 16;
inline constexpr std::array<std::string_view, 8> kMethodLabels = {"GET",   "HEAD",   "POST",    "PUT",
                                                                  "PATCH", "DELETE", "OPTIONS", "other"};
// Upper bounds in seconds of the latency histogram's buckets (+Inf implied).
inline constexpr std::array<double, 15> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};
inline constexpr std::array<std::string_view, 3> kDatabaseErrorKinds = {"unavailable", "busy", "internal"};
// Why a connection was refused at once (http::Rejection), and which wait ran
// out (http::TimeoutKind); unknown values count under the last.
inline constexpr std::array<std::string_view, 2> kRejectionReasons = {"max_connections", "per_client"};
inline constexpr std::array<std::string_view, 3> kTimeoutKinds = {"idle", "request", "write"};

// Values read at scrape time from their owners.
struct Gauges {
  std::function<std::int64_t()> requests_in_flight = [] { return 0; };
  std::function<std::int64_t()> open_connections = [] { return 0; };
  std::function<std::uint64_t()> dropped_log_lines = [] { return 0; };
  std::function<std::int64_t()> request_buffer_bytes = [] { return 0; };
  std::function<std::int64_t()> response_buffer_bytes = [] { return 0; };
};

class Metrics {
 public:
  // `route_labels` must outlive the object (static tables do).
  explicit Metrics(std::span<const std::string_view> route_labels);

  void observe_request(std::string_view route, std::string_view method, unsigned status,
                       std::chrono::nanoseconds duration);
  void count_database_error(std::string_view kind);
  void count_rejected_connection(std::string_view reason);
  void count_timeout(std::string_view kind);

  // The text exposition format (version 0.0.4).
  [[nodiscard]] std::string render(const Gauges& gauges) const;

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kStatusClasses = 5;
  static constexpr std::size_t kRoutes = kMaxRouteLabels;
  static constexpr std::size_t kMethods = kMethodLabels.size();
  static constexpr std::size_t kBuckets = kLatencyBuckets.size() + 1;

  struct alignas(64) Shard {
    std::array<std::atomic<std::uint64_t>, kRoutes * kMethods * kStatusClasses> requests{};
    std::array<std::atomic<std::uint64_t>, kRoutes * kBuckets> latency_buckets{};
    std::array<std::atomic<std::uint64_t>, kRoutes> latency_sum_ns{};
    std::array<std::atomic<std::uint64_t>, kDatabaseErrorKinds.size()> database_errors{};
    std::array<std::atomic<std::uint64_t>, kRejectionReasons.size()> rejected_connections{};
    std::array<std::atomic<std::uint64_t>, kTimeoutKinds.size()> timeouts{};
  };

  Shard& this_thread_shard();
  template <typename Pick>
  [[nodiscard]] std::uint64_t sum(Pick pick) const;

  [[nodiscard]] std::size_t route_index(std::string_view route) const;
  void render_requests(std::string& out) const;
  void render_latency(std::string& out) const;

  std::array<Shard, kShards> shards_;
  std::array<std::string_view, kRoutes> route_labels_{};
  std::size_t route_count_ = 0;  // route_labels_ in use, "other" last
  std::atomic<std::size_t> next_shard_{0};
  double start_time_seconds_;
};

}  // namespace users::observability
