// A plain blocking socket to the server under test, for tests that must
// control every byte sent and pause between them (limits, malformed input,
// shutdown), where an HTTP client library would fix the bytes up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "support/http_client.hpp"

namespace users::testing {

// The first complete response in `raw`, if any. (parse_response alone takes
// an empty input for a default 200 response.)
std::optional<HttpResponse> first_response(std::string_view raw);

class RawConnection {
 public:
  // `receive_buffer_bytes` (SO_RCVBUF, set before connecting) > 0: a client
  // whose socket holds little of what it does not read.
  explicit RawConnection(std::uint16_t port, int receive_buffer_bytes = 0);
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  RawConnection(RawConnection&&) = delete;
  RawConnection& operator=(RawConnection&&) = delete;
  ~RawConnection();

  // False once the peer no longer takes bytes.
  bool send(std::string_view bytes);

  // Reads until `enough(received())` holds, the peer closes, or `timeout`
  // passes; returns whether `enough` held.
  bool read_until(const std::function<bool(std::string_view)>& enough, std::chrono::milliseconds timeout);

  // Reads one complete response (the first in the stream).
  bool read_response(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // True when the peer closed (or reset) the connection within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

  [[nodiscard]] const std::string& received() const { return received_; }
  void clear_received() { received_.clear(); }
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] bool reset() const { return reset_; }

 private:
  int fd_;
  std::string received_;
  bool closed_ = false;
  bool reset_ = false;
};

}  // namespace users::testing
