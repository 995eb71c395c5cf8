// What the server refuses, and how long it waits. Plain values, so that
// config/ can fill them in without pulling in Beast or Asio.
#pragma once

#include <chrono>
#include <cstddef>

namespace users::http {

struct Limits {
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // larger: 413
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger: 431
  std::size_t max_connections = 10000;                    // more: 503, then closed
  std::chrono::milliseconds idle_timeout{60'000};         // keep-alive wait for the next request
  std::chrono::milliseconds request_timeout{15'000};      // to receive a whole request once it has begun
  std::chrono::milliseconds write_timeout{15'000};        // to send one response (or one chunk)
  std::chrono::milliseconds drain_timeout{20'000};        // on shutdown, for in-flight requests
};

}  // namespace users::http
