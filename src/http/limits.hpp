// What the server refuses, and how long it waits. Plain values, so that
// config/ can fill them in without pulling in Beast or Asio.
#pragma once

#include <chrono>
#include <cstddef>

namespace users::http {

struct Limits {
  // Larger: 413. A user's body is under 200 bytes; 64 KiB leaves room for
  // clients that send extra fields or pretty-print, and keeps what one
  // request can make the server hold small.
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger: 431
  std::size_t max_connections = 10000;                    // more: 503, then closed
  std::size_t max_connections_per_client = 256;           // from one address; more: 503. 0: no cap
  // Bytes of requests being received, all connections together: header
  // blocks that did not come in one read, and bodies (their Content-Length,
  // or MAX_BODY_BYTES when chunked). A request that would pass it: 503.
  std::size_t request_buffer_bytes = std::size_t{32} * 1024 * 1024;
  // Bytes of responses being written, all connections together, counting
  // those over 4 KiB (pages, documents; smaller ones go to the socket at
  // once, and lists are streamed, capped by MAX_LIST_STREAMS). A response
  // that would pass it is replaced by a 503.
  std::size_t response_buffer_bytes = std::size_t{32} * 1024 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds request_timeout{15'000};  // to receive a whole request once it has begun
  std::chrono::milliseconds write_timeout{15'000};    // to send one response (or one chunk)
  std::chrono::milliseconds drain_timeout{20'000};    // on shutdown, for in-flight requests
};

}  // namespace users::http
