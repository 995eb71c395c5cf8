// The HTTP/1.1 server: listener, connections, limits and graceful shutdown.
// It moves bytes and knows nothing of users: every request goes to one
// Handler, a coroutine from request to response.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/limits.hpp"

namespace users::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Message = boost::beast::http::response<boost::beast::http::string_body>;

// Why a streamed body stopped early (for the log; the client just sees the
// connection close).
struct StreamFailure {
  std::string detail;
};

// A response body produced piece by piece and sent with chunked encoding, so
// that a large answer never has to sit in memory whole.
class BodyStream {
 public:
  BodyStream() = default;
  BodyStream(const BodyStream&) = delete;
  BodyStream& operator=(const BodyStream&) = delete;
  BodyStream(BodyStream&&) = delete;
  BodyStream& operator=(BodyStream&&) = delete;
  virtual ~BodyStream() = default;

  // The next piece, valid until the following call; empty once the body is
  // complete. An error ends the response early by closing the connection.
  virtual boost::asio::awaitable<boost::system::result<std::string_view, StreamFailure>> next() = 0;
};

struct Response {
  Message message;
  // Header lines that are the same on every answer of their kind (each
  // "Name: value\r\n"): static text the presenter chooses, sent after the
  // message's fields without being fields, so that they cost no allocation.
  std::string_view fixed_headers;
  // When set, the body comes from here and message.body() is not sent.
  std::unique_ptr<BodyStream> stream;
  // A fixed label for logs and metrics (a route template, never the raw path).
  std::string_view route = "other";
  // Whom the handler took the request to come from, for the access log: the
  // client's address (behind trusted proxies, not the peer's) and the
  // authenticated principal; empty when unknown.
  std::string client;
  std::string principal;
};

// What the server knows of a request besides its message, for the handler's
// logs. Valid until the handler's coroutine completes.
struct RequestInfo {
  std::string_view request_id;  // also sent back as X-Request-ID
  std::string_view peer;        // "address:port"
};

using Handler = std::function<boost::asio::awaitable<Response>(Request, RequestInfo)>;

struct ServerConfig {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;  // 0 picks a free port
  std::size_t threads = 1;
  Limits limits;
  // Peers that MAX_CONNECTIONS_PER_CLIENT does not apply to: the trusted
  // proxies, which carry many clients' connections each.
  std::function<bool(const boost::asio::ip::address&)> uncapped_peer = [](const auto&) { return false; };
};

// Fixed route labels for what the server decides on its own, without the
// handler: a request it refuses (400, 413, 431, 501), and a request cut by
// REQUEST_TIMEOUT or a streamed response cut by WRITE_TIMEOUT.
inline constexpr std::string_view kMalformedRoute = "malformed";
inline constexpr std::string_view kTimeoutRoute = "timeout";
// A request refused with 503 because REQUEST_BUFFER_BYTES (or, for its
// answer, RESPONSE_BUFFER_BYTES) are taken.
inline constexpr std::string_view kOverloadedRoute = "overloaded";

// Which wait ran out: a keep-alive connection's IDLE_TIMEOUT, a request's
// REQUEST_TIMEOUT, or a response's WRITE_TIMEOUT.
enum class TimeoutKind { kIdle, kRequest, kWrite };
inline constexpr std::string_view kTimeoutKindNames[] = {"idle", "request", "write"};
constexpr std::string_view timeout_kind_name(TimeoutKind kind) {
  return kTimeoutKindNames[static_cast<std::size_t>(kind)];
}

// Why a connection was refused with 503 as soon as it was accepted.
enum class Rejection { kMaxConnections, kPerClient };
inline constexpr std::string_view kRejectionNames[] = {"max_connections", "per_client"};
constexpr std::string_view rejection_name(Rejection reason) {
  return kRejectionNames[static_cast<std::size_t>(reason)];
}

// One request and its answer, reported once its response is complete, just
// before the last bytes are written (so a client that reads the response and
// then scrapes /metrics sees it counted). Also reported, once: a request the
// server refuses itself (route kMalformedRoute, the status sent), a request
// cut by REQUEST_TIMEOUT (route kTimeoutRoute, status 408, which is not sent:
// no one is listening), and a streamed response cut short (complete false,
// body_bytes what was sent; route kTimeoutRoute when WRITE_TIMEOUT cut it).
struct Exchange {
  std::string_view method;
  std::string_view target;
  std::string_view route;
  unsigned status = 0;
  std::uint64_t body_bytes = 0;
  std::chrono::nanoseconds duration{0};
  std::string_view peer;
  std::string_view request_id;
  std::string_view client;     // Response::client, or the peer's address
  std::string_view principal;  // Response::principal
  bool complete = true;        // false: cut short, body_bytes is what was sent
};

// Hooks for logs and metrics, called on the IO thread; the server itself
// never writes logs.
struct ServerEvents {
  std::function<void(std::string_view what, std::string_view detail)> warning = [](auto, auto) {};
  std::function<void(std::string_view what, std::string_view detail)> info = [](auto, auto) {};
  std::function<void(const Exchange&)> exchange = [](const Exchange&) {};
  std::function<void(Rejection, std::string_view peer)> connection_rejected = [](auto, auto) {};
  std::function<void(TimeoutKind, std::string_view peer)> timeout = [](auto, auto) {};
};

class Server {
 public:
  Server(ServerConfig config, Handler handler, ServerEvents events = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;
  ~Server();

  // Binds and listens; a message saying why when it cannot.
  boost::system::result<void, std::string> listen();
  [[nodiscard]] std::uint16_t port() const;

  // Starts the IO threads, returns at once.
  void start();
  // Blocks until shutdown has drained every connection.
  void wait();
  // Thread-safe and idempotent: stop accepting, let in-flight requests finish
  // (up to drain_timeout), close idle connections, then let wait() return.
  void shutdown();
  [[nodiscard]] bool draining() const;
  [[nodiscard]] std::size_t open_connections() const;
  [[nodiscard]] std::size_t requests_in_flight() const;
  // Of REQUEST_BUFFER_BYTES, what requests being received hold now.
  [[nodiscard]] std::size_t request_buffer_bytes() const;
  // Of RESPONSE_BUFFER_BYTES, what responses being written hold now.
  [[nodiscard]] std::size_t response_buffer_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace users::http
