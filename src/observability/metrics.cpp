#include "observability/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <filesystem>
#include <fstream>

namespace users::observability {
namespace {

template <std::size_t N>
std::size_t index_of(const std::array<std::string_view, N>& labels, std::string_view value) {
  const auto found = std::find(labels.begin(), labels.end() - 1, value);
  return static_cast<std::size_t>(found - labels.begin());  // the last label is the catch-all
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Resident memory and descriptors of this process, from /proc.
std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages_total = 0;
  std::uint64_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t open_descriptors() {
  std::error_code ec;
  std::uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++count;
  return count;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto to_seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Metrics::Metrics(std::span<const std::string_view> route_labels) : start_time_seconds_(now_seconds()) {
  for (const auto label : route_labels.first(std::min(route_labels.size(), kRoutes - 1))) {
    route_labels_[route_count_++] = label;
  }
  route_labels_[route_count_++] = "other";
}

std::size_t Metrics::route_index(std::string_view route) const {
  const auto* const end = route_labels_.begin() + static_cast<std::ptrdiff_t>(route_count_ - 1);
  return static_cast<std::size_t>(std::find(route_labels_.begin(), end, route) - route_labels_.begin());
}

Metrics::Shard& Metrics::this_thread_shard() {
  // Each thread keeps the shard it was first given for this Metrics object.
  thread_local const Metrics* owner = nullptr;
  thread_local std::size_t index = 0;
  if (owner != this) {
    owner = this;
    index = next_shard_.fetch_add(1, std::memory_order_relaxed) % kShards;
  }
  return shards_[index];
}

template <typename Pick>
std::uint64_t Metrics::sum(Pick pick) const {
  std::uint64_t total = 0;
  for (const Shard& shard : shards_) total += pick(shard).load(std::memory_order_relaxed);
  return total;
}

void Metrics::observe_request(std::string_view route, std::string_view method, unsigned status,
                              std::chrono::nanoseconds duration) {
  const std::size_t r = route_index(route);
  const std::size_t m = index_of(kMethodLabels, method);
  const std::size_t c = std::clamp<std::size_t>(status / 100, 1, kStatusClasses) - 1;
  const double seconds = std::chrono::duration<double>(duration).count();
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) - kLatencyBuckets.begin());

  Shard& shard = this_thread_shard();
  shard.requests[(r * kMethods + m) * kStatusClasses + c].fetch_add(1, std::memory_order_relaxed);
  shard.latency_buckets[r * kBuckets + bucket].fetch_add(1, std::memory_order_relaxed);
  shard.latency_sum_ns[r].fetch_add(static_cast<std::uint64_t>(duration.count()), std::memory_order_relaxed);
}

namespace {
// Where a label value sits in its fixed set; unknown values count under the last.
template <std::size_t N>
std::size_t index_in(const std::array<std::string_view, N>& labels, std::string_view value) {
  const auto found = std::find(labels.begin(), labels.end(), value);
  return found == labels.end() ? N - 1 : static_cast<std::size_t>(found - labels.begin());
}
}  // namespace

void Metrics::count_database_error(std::string_view kind) {
  this_thread_shard().database_errors[index_in(kDatabaseErrorKinds, kind)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_rejected_connection(std::string_view reason) {
  this_thread_shard().rejected_connections[index_in(kRejectionReasons, reason)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_timeout(std::string_view kind) {
  this_thread_shard().timeouts[index_in(kTimeoutKinds, kind)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::render_requests(std::string& out) const {
  header(out, "users_api_http_requests_total", "counter",
         "HTTP requests answered, by route template, method and status class.");
  for (std::size_t r = 0; r < route_count_; ++r) {
    for (std::size_t m = 0; m < kMethods; ++m) {
      for (std::size_t c = 0; c < kStatusClasses; ++c) {
        const auto i = (r * kMethods + m) * kStatusClasses + c;
        const auto count = sum([i](const Shard& s) -> const auto& { return s.requests[i]; });
        if (count == 0) continue;
        fmt::format_to(std::back_inserter(out),
                       "users_api_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}xx\"}} {}\n",
                       route_labels_[r], kMethodLabels[m], c + 1, count);
      }
    }
  }
}

void Metrics::render_latency(std::string& out) const {
  header(out, "users_api_http_request_duration_seconds", "histogram",
         "Time from a complete request to the end of its response, by route template.");
  for (std::size_t r = 0; r < route_count_; ++r) {
    std::uint64_t cumulative = 0;
    std::string series;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const auto i = r * kBuckets + b;
      cumulative += sum([i](const Shard& s) -> const auto& { return s.latency_buckets[i]; });
      const std::string bound = b < kLatencyBuckets.size() ? fmt::format("{}", kLatencyBuckets[b]) : "+Inf";
      fmt::format_to(std::back_inserter(series),
                     "users_api_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route_labels_[r],
                     bound, cumulative);
    }
    if (cumulative == 0) continue;
    out += series;
    const auto sum_ns = sum([r](const Shard& s) -> const auto& { return s.latency_sum_ns[r]; });
    fmt::format_to(std::back_inserter(out), "users_api_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                   route_labels_[r], static_cast<double>(sum_ns) / 1e9);
    fmt::format_to(std::back_inserter(out), "users_api_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                   route_labels_[r], cumulative);
  }
}

std::string Metrics::render(const Gauges& gauges) const {
  std::string out;
  out.reserve(std::size_t{16} * 1024);

  render_requests(out);
  render_latency(out);

  header(out, "users_api_http_requests_in_flight", "gauge", "Requests being handled right now on the API port.");
  fmt::format_to(std::back_inserter(out), "users_api_http_requests_in_flight {}\n", gauges.requests_in_flight());
  header(out, "users_api_http_connections_open", "gauge", "Open client connections to the API port.");
  fmt::format_to(std::back_inserter(out), "users_api_http_connections_open {}\n", gauges.open_connections());
  header(out, "users_api_http_connections_rejected_total", "counter",
         "Connections refused with 503 at once: MAX_CONNECTIONS open, or MAX_CONNECTIONS_PER_CLIENT from one address.");
  for (std::size_t r = 0; r < kRejectionReasons.size(); ++r) {
    fmt::format_to(std::back_inserter(out), "users_api_http_connections_rejected_total{{reason=\"{}\"}} {}\n",
                   kRejectionReasons[r], sum([r](const Shard& s) -> const auto& { return s.rejected_connections[r]; }));
  }
  header(out, "users_api_http_timeouts_total", "counter",
         "Waits that ran out: IDLE_TIMEOUT, REQUEST_TIMEOUT or WRITE_TIMEOUT, by kind.");
  for (std::size_t k = 0; k < kTimeoutKinds.size(); ++k) {
    fmt::format_to(std::back_inserter(out), "users_api_http_timeouts_total{{kind=\"{}\"}} {}\n", kTimeoutKinds[k],
                   sum([k](const Shard& s) -> const auto& { return s.timeouts[k]; }));
  }
  header(out, "users_api_http_request_buffer_bytes", "gauge",
         "Bytes of REQUEST_BUFFER_BYTES held by requests being received.");
  fmt::format_to(std::back_inserter(out), "users_api_http_request_buffer_bytes {}\n", gauges.request_buffer_bytes());
  header(out, "users_api_http_response_buffer_bytes", "gauge",
         "Bytes of RESPONSE_BUFFER_BYTES held by responses being written.");
  fmt::format_to(std::back_inserter(out), "users_api_http_response_buffer_bytes {}\n", gauges.response_buffer_bytes());

  header(out, "users_api_database_errors_total", "counter", "Database operations that failed, by kind.");
  for (std::size_t k = 0; k < kDatabaseErrorKinds.size(); ++k) {
    fmt::format_to(std::back_inserter(out), "users_api_database_errors_total{{kind=\"{}\"}} {}\n",
                   kDatabaseErrorKinds[k], sum([k](const Shard& s) -> const auto& { return s.database_errors[k]; }));
  }

  header(out, "users_api_log_lines_dropped_total", "counter", "Log lines dropped because stdout could not keep up.");
  fmt::format_to(std::back_inserter(out), "users_api_log_lines_dropped_total {}\n", gauges.dropped_log_lines());

  header(out, "users_api_build_info", "gauge", "Build information; the value is always 1.");
  fmt::format_to(std::back_inserter(out), "users_api_build_info{{version=\"{}\"}} 1\n", USERS_API_VERSION);

  header(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
  fmt::format_to(std::back_inserter(out), "process_start_time_seconds {:.3f}\n", start_time_seconds_);
  header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  fmt::format_to(std::back_inserter(out), "process_cpu_seconds_total {:.3f}\n", cpu_seconds());
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  fmt::format_to(std::back_inserter(out), "process_resident_memory_bytes {}\n", resident_bytes());
  header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  fmt::format_to(std::back_inserter(out), "process_open_fds {}\n", open_descriptors());
  return out;
}

}  // namespace users::observability
