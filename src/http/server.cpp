#include "http/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/intrusive/list.hpp>
#include <cerrno>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/byte_budget.hpp"
#include "http/wire.hpp"

namespace users::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
// The first read of a request: nearly every header block fits (a browser's
// with cookies included), and an idle connection holds no more than this.
constexpr std::size_t kFirstRead = std::size_t{4} * 1024;
// Each further read of a header block or a body, charged to the budget.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// What Beast's body reads prepare in the buffer at most (http::read's read_size).
constexpr std::size_t kBodyReadBuffer = std::size_t{64} * 1024;
// A response buffer that grew past this for one large answer is given back
// (kept, it would be memory held by an idle connection).
constexpr std::size_t kKeptOutputBytes = std::size_t{4} * 1024;
// Responses up to this size are not charged to RESPONSE_BUFFER_BYTES: the
// socket takes them at once, and sparing them the budget's atomic operations
// keeps the GET of one user free of shared writes.
constexpr std::size_t kUnchargedResponseBytes = std::size_t{4} * 1024;
// Accept's pause after a failure (EMFILE, ENFILE, ENOBUFS), doubled while it lasts.
constexpr std::chrono::milliseconds kFirstAcceptPause{10};
constexpr std::chrono::milliseconds kLongestAcceptPause{1000};

constexpr std::string_view kTooManyConnections = "Too many open connections, try again later.";
// DRF's ServiceUnavailable, for a request refused for want of memory.
constexpr std::string_view kOverloaded = "Service temporarily unavailable, try again later.";

// Django's answer to a Host it will not serve, and ours to a missing or doubled one.
constexpr std::string_view kInvalidHost = "Invalid host header.";

constexpr std::string_view kObsFold = "Obsolete line folding is not allowed in header fields.";

using Parser = bhttp::request_parser<bhttp::string_body>;

// Whether Beast already refuses the start of a header block: garbage (a TLS
// hello, noise) is answered at once instead of after REQUEST_TIMEOUT.
bool parser_refuses(std::string_view bytes, std::size_t header_limit) {
  bhttp::request_parser<bhttp::empty_body> trial;
  trial.header_limit(static_cast<std::uint32_t>(header_limit));
  boost::system::error_code ec;
  trial.put(asio::buffer(bytes.data(), bytes.size()), ec);
  return ec && ec != bhttp::error::need_more;
}

bool has_one_host(const Request& request) {
  const auto hosts = request.count(bhttp::field::host);
  return hosts == 1 || (hosts == 0 && request.version() < 11);
}

using ListHook = boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

Message busy_message(std::string_view detail) {
  auto message = error_message(bhttp::status::service_unavailable, detail, 11);
  message.set(bhttp::field::retry_after, "1");
  return message;
}

// An answer to a request: its fields, the presenter's fixed lines, the Date.
void serialize_answer(const Response& response, std::string& out) {
  serialize(response.message, out, {response.fixed_headers, date_header_line()});
}

// The peer's address as one client: an IPv4 client of a dual-stack socket
// arrives IPv4-mapped.
asio::ip::address client_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto address = socket.remote_endpoint(ec).address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open || ec == boost::system::errc::too_many_files_open_in_system;
}

// A descriptor held in reserve: when accept fails for want of descriptors,
// it is given up for a moment to take the waiting connection, tell it 503,
// and close it, instead of leaving the client to time out.
class SpareDescriptor {
 public:
  SpareDescriptor() { open(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;
  SpareDescriptor(SpareDescriptor&&) = delete;
  SpareDescriptor& operator=(SpareDescriptor&&) = delete;
  ~SpareDescriptor() { release(); }

  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void open() {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

 private:
  int fd_ = -1;
};

}  // namespace

// One accepted connection. Lives in its coroutine's frame; touched only by
// the IO thread that owns its socket.
struct Connection {
  enum class State { kIdle, kBusy };

  Connection(tcp::socket socket, ByteBudget& requests, ByteBudget& responses)
      : stream(std::move(socket)), share(requests), response_share(responses) {}

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  ByteBudget::Share share;           // of REQUEST_BUFFER_BYTES, for the request being received
  ByteBudget::Share response_share;  // of RESPONSE_BUFFER_BYTES, for the response being written
  std::string output;                // a whole response, serialised before it is written
  State state = State::kIdle;
  ListHook hook;
};

// What a request's body will hold, charged before a byte of it is read: its
// Content-Length (Beast reserves that much at once), or MAX_BODY_BYTES when
// it is chunked, and the buffer it is read through (Beast reads up to 64 KiB
// at a time) unless the whole body is in it already; nothing when it has no
// body.
std::size_t body_reservation(const Parser& parser, const beast::flat_buffer& buffer, std::size_t max_body_bytes) {
  if (parser.is_done()) return 0;
  const auto length = parser.content_length();
  const std::size_t body = length ? static_cast<std::size_t>(*length) : parser.chunked() ? max_body_bytes : 0;
  if (body == 0) return 0;
  const bool arrived = length && buffer.size() >= body;
  return body + (arrived ? buffer.capacity() : std::max(buffer.capacity(), kBodyReadBuffer));
}

// After each exchange: the budget's share back, and buffers that one large
// request or response made grow back to their resting size, so that a burst
// leaves no memory held by idle connections.
void give_back_request_memory(Connection& connection) {
  connection.share.resize(0);
  connection.response_share.resize(0);
  if (connection.buffer.size() == 0 && connection.buffer.capacity() > kFirstRead) connection.buffer.shrink_to_fit();
  if (connection.output.capacity() > kKeptOutputBytes) std::string().swap(connection.output);
}

using ConnectionList =
    boost::intrusive::list<Connection, boost::intrusive::member_hook<Connection, ListHook, &Connection::hook>,
                           boost::intrusive::constant_time_size<false>>;

// One IO thread with its own io_context: no locks between threads on the
// hot path, and a connection stays on the thread that accepted it.
struct Worker {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> keep_running = asio::make_work_guard(io);
  ConnectionList connections;
  std::thread thread;
};

struct Server::Impl {
  Impl(ServerConfig config_in, Handler handler_in, ServerEvents events_in)
      : config(std::move(config_in)),
        handler(std::move(handler_in)),
        events(std::move(events_in)),
        request_budget(config.limits.request_buffer_bytes),
        response_budget(config.limits.response_buffer_bytes) {
    serialize(busy_message(kTooManyConnections), too_many_connections);
    const std::size_t count = config.threads == 0 ? 1 : config.threads;
    for (std::size_t i = 0; i < count; ++i) workers.push_back(std::make_unique<Worker>());
    acceptor.emplace(workers.front()->io);
    drain_timer.emplace(workers.front()->io);
  }

  ServerConfig config;
  Handler handler;
  ServerEvents events;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> drain_timer;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> requests_in_flight{0};
  std::size_t next_worker = 0;
  ByteBudget request_budget;
  ByteBudget response_budget;
  std::string too_many_connections;  // the 503 for a connection refused at once, as bytes

  // Connections open per client address, for MAX_CONNECTIONS_PER_CLIENT.
  std::mutex clients_mutex;
  std::unordered_map<asio::ip::address, std::size_t> connections_per_client;

  // Accept's state, on the first worker's thread only: failing since the
  // last success (logged once when it starts and once when it ends).
  bool accept_failing = false;
  std::chrono::milliseconds accept_pause{0};
  SpareDescriptor spare;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> back_off_accept(const boost::system::error_code& ec);
  void refuse_with_spare_descriptor(asio::io_context& io);
  void admit(tcp::socket socket, Worker& target);
  // Counts a connection against its client's cap; false when it is full.
  bool count_client(const asio::ip::address& client);
  void uncount_client(const asio::ip::address& client);
  asio::awaitable<void> serve(tcp::socket socket, Worker& worker);
  asio::awaitable<bool> read_request(Connection& connection, Parser& parser, std::string_view peer) const;
  // Reads until the buffer holds a whole header block (or Beast will refuse
  // what it holds, or it reaches the header limit); the read error, if any,
  // and whether a line is folded.
  struct HeaderWait {
    boost::system::error_code ec;
    bool folded = false;
    bool over_budget = false;  // a further read would pass REQUEST_BUFFER_BYTES
  };
  asio::awaitable<HeaderWait> await_header_block(Connection& connection) const;
  // Answers a request the server refuses itself (and reports it as such).
  asio::awaitable<void> refuse_request(Connection& connection, Message& answer, const Parser& parser,
                                       std::string_view peer, std::chrono::steady_clock::time_point started,
                                       std::string_view route = kMalformedRoute) const;
  // Reports a request (or the start of one) cut by REQUEST_TIMEOUT.
  void report_timeout(const Parser& parser, std::string_view peer, std::chrono::steady_clock::time_point started) const;
  asio::awaitable<bool> exchange(Connection& connection, Request request, std::string_view peer);
  asio::awaitable<void> refuse(tcp::socket socket) const;
  // What is reported of a request once its response is complete.
  struct InFlight {
    std::string_view method;
    std::string_view target;
    std::string_view peer;
    std::string_view request_id;
    std::chrono::steady_clock::time_point started;
    bool reported = false;
    std::uint64_t sent = 0;  // body bytes of a streamed response written so far
    bool timed_out = false;  // a write of it hit WRITE_TIMEOUT
  };
  // Reports the exchange (access log, metrics) once; `complete` false for a
  // response cut short, whose body_bytes are those sent.
  void report(InFlight& in_flight, const Response& response, std::uint64_t body_bytes, bool complete = true) const;
  // Whether the whole response went out. The exchange is reported when the
  // response is complete, before its last bytes are written: a client that
  // reads the response and then scrapes /metrics sees it counted.
  asio::awaitable<bool> send(Connection& connection, Response& response, bool head_only, InFlight& in_flight) const;
  void begin_shutdown();
  void finish_drain_if_empty();
  // Lets every IO thread return once its work is done. Only when the drain is
  // over: a connection accepted just before it began may still be on its way
  // to a worker, and a worker without a guard that had nothing to do would
  // already have returned, leaving that connection unserved and counted open
  // until the drain deadline.
  void release_workers();
  bool workers_released = false;  // touched on the first worker's thread only
};

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    // Round-robin keeps the threads evenly loaded, whatever the client count.
    Worker& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    auto [ec, socket] = co_await acceptor->async_accept(target.io, kAwaitable);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      auto pausing = back_off_accept(ec);
      co_await std::move(pausing);
      continue;
    }
    if (accept_failing) {
      accept_failing = false;
      events.info("accepting connections again", {});
    }
    admit(std::move(socket), target);
  }
}

// One log line when accept starts failing, none per retry: the pause doubles
// up to a second while it lasts.
asio::awaitable<void> Server::Impl::back_off_accept(const boost::system::error_code& ec) {
  if (!accept_failing) {
    accept_failing = true;
    accept_pause = kFirstAcceptPause;
    events.warning("accept failing, backing off", ec.message());
  } else {
    accept_pause = std::min(accept_pause * 2, kLongestAcceptPause);
  }
  if (out_of_descriptors(ec)) refuse_with_spare_descriptor(workers.front()->io);
  asio::steady_timer pause(acceptor->get_executor(), accept_pause);
  co_await pause.async_wait(kAwaitable);
}

void Server::Impl::refuse_with_spare_descriptor(asio::io_context& io) {
  spare.release();
  tcp::socket socket(io);
  boost::system::error_code ec;
  acceptor->accept(socket, ec);  // the acceptor is non-blocking: never waits
  if (!ec) {
    events.connection_rejected(Rejection::kMaxConnections, peer_of(socket));
    // A fresh socket's send buffer takes these few bytes at once.
    asio::write(socket, asio::buffer(too_many_connections), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }
  spare.open();
}

bool Server::Impl::count_client(const asio::ip::address& client) {
  const std::lock_guard lock(clients_mutex);
  auto& open = connections_per_client[client];
  if (open >= config.limits.max_connections_per_client) return false;
  ++open;
  return true;
}

void Server::Impl::uncount_client(const asio::ip::address& client) {
  const std::lock_guard lock(clients_mutex);
  const auto found = connections_per_client.find(client);
  if (found != connections_per_client.end() && --found->second == 0) connections_per_client.erase(found);
}

void Server::Impl::admit(tcp::socket socket, Worker& target) {
  if (open_connections.load(std::memory_order_relaxed) >= config.limits.max_connections) {
    events.connection_rejected(Rejection::kMaxConnections, peer_of(socket));
    asio::co_spawn(target.io, refuse(std::move(socket)), asio::detached);
    return;
  }
  std::optional<asio::ip::address> counted;
  if (config.limits.max_connections_per_client != 0) {
    const auto client = client_of(socket);
    if (!config.uncapped_peer(client)) {
      if (!count_client(client)) {
        events.connection_rejected(Rejection::kPerClient, peer_of(socket));
        asio::co_spawn(target.io, refuse(std::move(socket)), asio::detached);
        return;
      }
      counted = client;
    }
  }
  open_connections.fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(target.io, serve(std::move(socket), target), [this, counted](const std::exception_ptr& error) {
    if (counted) uncount_client(*counted);
    open_connections.fetch_sub(1, std::memory_order_relaxed);
    if (draining.load(std::memory_order_relaxed)) finish_drain_if_empty();
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        events.warning("connection ended by an exception", e.what());
      }
    }
  });
}

asio::awaitable<void> Server::Impl::refuse(tcp::socket socket) const {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(config.limits.write_timeout);
  co_await asio::async_write(stream, asio::buffer(too_many_connections), kAwaitable);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Server::Impl::serve(tcp::socket socket, Worker& worker) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const std::string peer = peer_of(socket);
  Connection connection(std::move(socket), request_budget, response_budget);
  worker.connections.push_back(connection);
  const Limits& limits = config.limits;

  for (;;) {
    // Between requests: wait for the first bytes of the next one.
    connection.state = Connection::State::kIdle;
    if (draining.load(std::memory_order_relaxed)) break;
    if (connection.buffer.size() == 0) {
      connection.stream.expires_after(limits.idle_timeout);
      auto [read_ec, n] = co_await connection.stream.async_read_some(connection.buffer.prepare(kFirstRead), kAwaitable);
      if (read_ec == beast::error::timeout) events.timeout(TimeoutKind::kIdle, peer);
      if (read_ec) break;  // closed by the peer, idle timeout, or shutdown
      connection.buffer.commit(n);
    }
    connection.state = Connection::State::kBusy;

    bhttp::request_parser<bhttp::string_body> parser;
    auto reading = read_request(connection, parser, peer);
    if (!co_await std::move(reading)) break;
    // (Built in its own statement: GCC 12 mishandles temporaries, such as a
    // by-value argument, that share a full-expression with co_await.)
    auto exchanging = exchange(connection, parser.release(), peer);
    const bool keep_open = co_await std::move(exchanging);
    give_back_request_memory(connection);
    if (!keep_open) break;
  }
  connection.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  connection.stream.close();
}

// Reads one whole request into `parser`; false when the connection is done
// (after answering a request that cannot be served, when it deserves one).
asio::awaitable<bool> Server::Impl::read_request(Connection& connection, Parser& parser, std::string_view peer) const {
  const Limits& limits = config.limits;
  const auto started = std::chrono::steady_clock::now();
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  connection.stream.expires_after(limits.request_timeout);
  auto [header_ec, folded, over_budget] = co_await await_header_block(connection);
  if (over_budget) {
    auto refused = busy_message(kOverloaded);
    co_await refuse_request(connection, refused, parser, peer, started, kOverloadedRoute);
    co_return false;
  }
  // RFC 9112 5.2: a server must reject obs-fold or replace it with spaces;
  // Beast 1.81 replaces it, but a proxy in front may have split the line
  // instead, and a folded Transfer-Encoding is a smuggling vector.
  if (folded) {
    auto refused = error_message(bhttp::status::bad_request, kObsFold, 11);
    co_await refuse_request(connection, refused, parser, peer, started);
    co_return false;
  }
  if (!header_ec) {
    auto [read_ec, header_bytes] =
        co_await bhttp::async_read_header(connection.stream, connection.buffer, parser, kAwaitable);
    header_ec = read_ec;
  }
  if (!header_ec) {
    // RFC 9112 6: a Transfer-Encoding we cannot frame by leaves the body's
    // length unknowable; reading on would let the body smuggle in a second
    // request.
    if (auto refused = refuse_transfer_encoding(parser.get())) {
      co_await refuse_request(connection, *refused, parser, peer, started);
      co_return false;
    }
    // RFC 9112 3.2: an HTTP/1.1 request needs exactly one Host, and no
    // request may have two (which one a proxy and we each read would differ).
    if (!has_one_host(parser.get())) {
      auto refused = error_message(bhttp::status::bad_request, kInvalidHost, parser.get().version());
      co_await refuse_request(connection, refused, parser, peer, started);
      co_return false;
    }
    // The body is held whole (Beast reserves its Content-Length at once): it
    // is charged before a byte of it is read.
    if (!connection.share.resize(body_reservation(parser, connection.buffer, limits.max_body_bytes))) {
      auto refused = busy_message(kOverloaded);
      co_await refuse_request(connection, refused, parser, peer, started, kOverloadedRoute);
      co_return false;
    }
  }
  if (!header_ec && !parser.is_done()) {
    const auto expect = parser.get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, parser.get().version()};
      co_await bhttp::async_write(connection.stream, proceed, kAwaitable);
    }
    auto [body_ec, body_bytes] = co_await bhttp::async_read(connection.stream, connection.buffer, parser, kAwaitable);
    header_ec = body_ec;
  }
  if (!header_ec) co_return true;
  if (header_ec == beast::error::timeout) {
    report_timeout(parser, peer, started);
    co_return false;
  }
  if (auto answer = answer_for_read_error(header_ec, limits)) {
    co_await refuse_request(connection, *answer, parser, peer, started);
  }
  co_return false;
}

// Why a guard on bytes: Beast 1.81 accepts obs-fold (it joins the lines with
// a space) and the parsed header keeps no trace of it, so the fold can only
// be seen in the bytes before Beast consumes them. This is no HTTP parser:
// it looks for CRLF followed by SP or HTAB up to the first empty line, and
// Beast still parses (and judges) everything. A header that arrives in one
// read (nearly all) costs one scan; one that arrives in pieces waits here for
// the rest, unless Beast already refuses what came or the header limit is hit.
asio::awaitable<Server::Impl::HeaderWait> Server::Impl::await_header_block(Connection& connection) const {
  const std::size_t limit = config.limits.max_header_bytes;
  for (;;) {
    const auto data = connection.buffer.cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), std::min(data.size(), limit + 4));
    const auto block = scan_header_block(bytes);
    if (block == HeaderBlock::kFolded) co_return HeaderWait{{}, true};
    if (block == HeaderBlock::kComplete) co_return HeaderWait{};
    // Beast answers these (431, 400) as it always did.
    if (data.size() >= limit || parser_refuses(bytes, limit)) co_return HeaderWait{};
    // A header block that did not come in one read: what it may grow to is
    // charged first, so that many slow clients cannot add up past the budget.
    if (!connection.share.resize(connection.buffer.size() + kReadChunk)) co_return HeaderWait{{}, false, true};
    auto [ec, n] = co_await connection.stream.async_read_some(connection.buffer.prepare(kReadChunk), kAwaitable);
    if (ec) co_return HeaderWait{ec, false};
    connection.buffer.commit(n);
  }
}

asio::awaitable<void> Server::Impl::refuse_request(Connection& connection, Message& answer, const Parser& parser,
                                                   std::string_view peer, std::chrono::steady_clock::time_point started,
                                                   std::string_view route) const {
  const std::string request_id = new_request_id();
  answer.set("X-Request-ID", request_id);
  // The method and target once Beast has parsed the start line (empty
  // before): raw bytes it has not accepted are never logged.
  Exchange refused;
  refused.method = parser.get().method_string();
  refused.target = parser.get().target();
  refused.route = route;
  refused.status = answer.result_int();
  refused.body_bytes = answer.body().size();
  refused.duration = std::chrono::steady_clock::now() - started;
  refused.peer = peer;
  refused.request_id = request_id;
  // Reported before the write, like every answer: a client that reads it and
  // then scrapes /metrics sees it counted.
  events.exchange(refused);
  connection.stream.expires_after(config.limits.write_timeout);
  co_await bhttp::async_write(connection.stream, answer, kAwaitable);
}

void Server::Impl::report_timeout(const Parser& parser, std::string_view peer,
                                  std::chrono::steady_clock::time_point started) const {
  const std::string request_id = new_request_id();
  Exchange cut;
  cut.method = parser.get().method_string();
  cut.target = parser.get().target();
  cut.route = kTimeoutRoute;
  cut.status = static_cast<unsigned>(bhttp::status::request_timeout);  // what it stands for; never sent
  cut.duration = std::chrono::steady_clock::now() - started;
  cut.peer = peer;
  cut.request_id = request_id;
  cut.complete = false;
  events.exchange(cut);
  events.timeout(TimeoutKind::kRequest, peer);
}

// Hands one request to the handler and sends its response; false when the
// connection must close.
asio::awaitable<bool> Server::Impl::exchange(Connection& connection, Request request, std::string_view peer) {
  const auto started = std::chrono::steady_clock::now();
  const bool head_only = request.method() == bhttp::verb::head;
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  const std::string method(request.method_string());
  const std::string target(request.target());
  const auto client_id = request["X-Request-ID"];
  const std::string request_id = is_sane_request_id(client_id) ? std::string(client_id) : new_request_id();

  requests_in_flight.fetch_add(1, std::memory_order_relaxed);
  auto handling = handler(std::move(request), RequestInfo{request_id, peer});
  Response response = co_await std::move(handling);
  response.message.version(version);
  response.message.keep_alive(keep_alive && !draining.load(std::memory_order_relaxed));
  response.message.set("X-Request-ID", request_id);
  const bool keep_open = response.message.keep_alive();
  InFlight in_flight{method, target, peer, request_id, started};
  const bool sent = co_await send(connection, response, head_only, in_flight);
  requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
  // Cut short (client gone, stream failure, WRITE_TIMEOUT): reported now,
  // with the body bytes that went out.
  report(in_flight, response, in_flight.sent, false);
  if (in_flight.timed_out) events.timeout(TimeoutKind::kWrite, peer);
  co_return sent&& keep_open;
}

void Server::Impl::report(InFlight& in_flight, const Response& response, std::uint64_t body_bytes,
                          bool complete) const {
  if (in_flight.reported) return;
  in_flight.reported = true;
  const auto route = !complete && in_flight.timed_out ? kTimeoutRoute : response.route;
  events.exchange(Exchange{in_flight.method, in_flight.target, route, response.message.result_int(), body_bytes,
                           std::chrono::steady_clock::now() - in_flight.started, in_flight.peer, in_flight.request_id,
                           response.client, response.principal, complete});
}

// Writes one response.
asio::awaitable<bool> Server::Impl::send(Connection& connection, Response& response, bool head_only,
                                         InFlight& in_flight) const {
  const Limits& limits = config.limits;
  Message& message = response.message;
  connection.stream.expires_after(limits.write_timeout);

  if (!response.stream) {
    message.prepare_payload();
    // Beast gives a 304 "Content-Length: 0"; RFC 9110 8.6 allows only the
    // length the 200 would have had, so a 304 goes without one.
    if (message.result() == bhttp::status::not_modified) message.erase(bhttp::field::content_length);
    if (head_only) message.body().clear();  // Content-Length still tells the GET size
    serialize_answer(response, connection.output);
    // A large answer a client may never read (a page, a document) is held
    // until it is written: charged first, and past the budget a 503 instead.
    if (connection.output.size() > kUnchargedResponseBytes &&
        !connection.response_share.resize(connection.output.size())) {
      const bool keep_alive = message.keep_alive();
      message = busy_message(kOverloaded);
      message.version(response.message.version());
      message.keep_alive(keep_alive);
      message.set("X-Request-ID", in_flight.request_id);
      response.route = kOverloadedRoute;
      response.fixed_headers = {};
      serialize_answer(response, connection.output);
    }
    report(in_flight, response, message.body().size());
    auto [ec, n] = co_await asio::async_write(connection.stream, asio::buffer(connection.output), kAwaitable);
    in_flight.timed_out = ec == beast::error::timeout;
    co_return !ec;
  }

  message.chunked(true);
  message.body().clear();
  serialize_answer(response, connection.output);
  if (head_only) report(in_flight, response, 0);
  auto [header_ec, header_bytes] =
      co_await asio::async_write(connection.stream, asio::buffer(connection.output), kAwaitable);
  if (header_ec) {
    in_flight.timed_out = header_ec == beast::error::timeout;
    co_return false;
  }
  if (head_only) co_return true;

  std::uint64_t bytes = 0;
  for (;;) {
    auto piece = co_await response.stream->next();
    if (!piece) {
      events.warning("response stream failed", piece.error().detail);
      co_return false;  // the client sees a truncated chunked body, never a wrong one
    }
    connection.stream.expires_after(limits.write_timeout);
    if (piece->empty()) {
      report(in_flight, response, bytes);
      const auto last_chunk = bhttp::make_chunk_last();
      auto [ec, n] = co_await asio::async_write(connection.stream, last_chunk, kAwaitable);
      in_flight.timed_out = ec == beast::error::timeout;
      co_return !ec;
    }
    bytes += piece->size();
    const auto chunk = bhttp::make_chunk(asio::buffer(*piece));
    auto [ec, n] = co_await asio::async_write(connection.stream, chunk, kAwaitable);
    if (ec) {
      in_flight.timed_out = ec == beast::error::timeout;
      co_return false;
    }
    in_flight.sent = bytes;
  }
}

void Server::Impl::begin_shutdown() {
  if (draining.exchange(true)) return;
  asio::post(workers.front()->io, [this] {
    boost::system::error_code ignored;
    acceptor->close(ignored);
    drain_timer->expires_after(config.limits.drain_timeout);
    drain_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      // Past the drain deadline: close whatever is still open.
      for (auto& worker : workers) {
        asio::post(worker->io, [&worker = *worker] {
          for (auto& connection : worker.connections) connection.stream.socket().close();
        });
      }
      release_workers();
    });
  });
  for (auto& worker : workers) {
    asio::post(worker->io, [&worker = *worker] {
      for (auto& connection : worker.connections) {
        if (connection.state == Connection::State::kIdle) connection.stream.cancel();
      }
    });
  }
  finish_drain_if_empty();
}

// The drain timer and the work guards keep the workers alive: let them go as
// soon as no connection is left, so shutdown takes no longer than it must.
void Server::Impl::finish_drain_if_empty() {
  asio::post(workers.front()->io, [this] {
    if (open_connections.load(std::memory_order_relaxed) != 0) return;
    drain_timer->cancel();
    release_workers();
  });
}

void Server::Impl::release_workers() {
  if (workers_released) return;
  workers_released = true;
  for (auto& worker : workers) {
    asio::post(worker->io, [&worker = *worker] { worker.keep_running.reset(); });
  }
}

Server::Server(ServerConfig config, Handler handler, ServerEvents events)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler), std::move(events))) {}

Server::~Server() {
  // A destructor must not throw; if draining fails this late there is no one
  // left to tell, and the process is ending anyway.
  try {
    shutdown();
    wait();
  } catch (...) {  // see above
  }
}

boost::system::result<void, std::string> Server::listen() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->config.host, ec);
  if (ec) return fmt::format("HOST: \"{}\" is not an IP address", impl_->config.host);
  const tcp::endpoint endpoint(address, impl_->config.port);
  auto& acceptor = *impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) return fmt::format("cannot open socket: {}", ec.message());
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return fmt::format("cannot listen on {}:{}: {}", impl_->config.host, impl_->config.port, ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fmt::format("cannot listen on {}:{}: {}", impl_->config.host, impl_->config.port, ec.message());
  }
  // The spare descriptor's accept must never wait.
  acceptor.non_blocking(true, ec);
  return {};
}

std::uint16_t Server::port() const {
  boost::system::error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

void Server::start() {
  asio::co_spawn(impl_->workers.front()->io, impl_->accept_loop(), asio::detached);
  for (auto& worker : impl_->workers) {
    worker->thread = std::thread([&io = worker->io] { io.run(); });
  }
}

void Server::wait() {
  for (auto& worker : impl_->workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

void Server::shutdown() {
  impl_->begin_shutdown();
}

bool Server::draining() const {
  return impl_->draining.load(std::memory_order_relaxed);
}

std::size_t Server::open_connections() const {
  return impl_->open_connections.load(std::memory_order_relaxed);
}

std::size_t Server::requests_in_flight() const {
  return impl_->requests_in_flight.load(std::memory_order_relaxed);
}

std::size_t Server::request_buffer_bytes() const {
  return impl_->request_budget.used();
}

std::size_t Server::response_buffer_bytes() const {
  return impl_->response_budget.used();
}

}  // namespace users::http
