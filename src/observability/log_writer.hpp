// The one writer of stdout: IO threads append finished lines to a shared
// buffer and never wait for stdout. The writer thread is woken once per batch,
// not per line: it lingers a moment so that a batch gathers, then writes it
// with one write(2). Bounded in lines and in bytes: past either bound a line
// is dropped and counted. A stdout that nobody reads cannot hold the process:
// once a flush deadline has passed, writes still blocked are given up and
// their lines counted as dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace users::observability {

struct LogQueueLimits {
  std::size_t max_lines = 16384;
  std::size_t max_bytes = 4U << 20U;
  // How long the writer lets a batch gather after its first line.
  std::chrono::microseconds linger{2000};
};

void configure_log_queue(const LogQueueLimits& limits);

// Takes a copy of `line` (ending in '\n'), or drops and counts it.
void enqueue_log_line(std::string_view line);

// Waits until every line enqueued before the call is written, or until
// `deadline`, after which blocked writes are given up. True when all was written.
bool flush_log_queue(std::chrono::steady_clock::time_point deadline);

[[nodiscard]] std::uint64_t dropped_log_queue_lines();

}  // namespace users::observability
