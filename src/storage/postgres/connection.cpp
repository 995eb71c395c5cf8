#include "storage/postgres/connection.hpp"

#include <poll.h>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <exception>
#include <optional>
#include <vector>

namespace users::storage::postgres {
namespace asio = boost::asio;
using WaitType = asio::posix::descriptor_base::wait_type;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);

// Notices (such as "relation already exists, skipping") would go to stderr,
// outside the JSON log; nothing in them needs an operator.
void ignore_notice(void* /*arg*/, const PGresult* /*result*/) {}

struct ConninfoFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// The hosts libpq will try, as comma-separated lists (host, hostaddr, port).
struct HostList {
  std::string hosts;
  std::string hostaddrs;
  std::string ports;
};

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  while (true) {
    const auto comma = list.find(',');
    items.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

// host, hostaddr and port as libpq will see them: from the URL, else from
// the PG* environment.
HostList configured_hosts(const std::string& url) {
  HostList list;
  std::unique_ptr<PQconninfoOption, ConninfoFree> options(PQconninfoParse(url.c_str(), nullptr));
  if (!options) return list;
  for (const auto* option = options.get(); option->keyword != nullptr; ++option) {
    const std::string_view keyword = option->keyword;
    const char* value = option->val;
    // What libpq falls back to. Nothing in users-api sets the environment
    // once threads run.
    if (value == nullptr && option->envvar != nullptr) {
      value = std::getenv(option->envvar);  // NOLINT(concurrency-mt-unsafe): no setenv after start-up
    }
    if (value == nullptr) continue;
    if (keyword == "host") list.hosts = value;
    if (keyword == "hostaddr") list.hostaddrs = value;
    if (keyword == "port") list.ports = value;
  }
  return list;
}

bool is_socket_path(std::string_view host) {
  return host.starts_with('/') || host.starts_with('@');
}

bool is_numeric(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A name lookup that gives up at a deadline.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), timer(executor) {}
  asio::ip::tcp::resolver resolver;
  asio::steady_timer timer;
};

asio::awaitable<PgResult<asio::ip::tcp::resolver::results_type>> lookup(std::string host,
                                                                        AsyncConnection::Clock::time_point deadline) {
  auto state = std::make_shared<Lookup>(co_await asio::this_coro::executor);
  state->timer.expires_at(deadline);
  // The handler owns the state, so it may outlive this frame safely.
  state->timer.async_wait([state](const boost::system::error_code& ec) {
    if (!ec) state->resolver.cancel();
  });
  auto [ec, results] = co_await state->resolver.async_resolve(host, "", kAwaitable);
  state->timer.cancel();
  if (ec) {
    co_return PgError{StoreError::Kind::kUnavailable, "",
                      fmt::format("could not translate host name \"{}\" to an address: {}", host,
                                  ec == asio::error::operation_aborted ? "timed out" : ec.message())};
  }
  co_return results;
}

// libpq looks host names up with a blocking getaddrinfo(), which would stall
// the IO thread (for seconds, if DNS is down). So names are looked up here,
// asynchronously, and handed to libpq as hostaddr (host stays, for TLS and
// .pgpass); each address becomes one entry, so libpq still tries them all.
// Nothing when there is nothing to look up.
asio::awaitable<PgResult<std::optional<HostList>>> resolve_hosts(const std::string& url,
                                                                 AsyncConnection::Clock::time_point deadline) {
  const HostList configured = configured_hosts(url);
  if (configured.hosts.empty() || !configured.hostaddrs.empty()) co_return std::nullopt;
  const auto hosts = split_list(configured.hosts);
  const auto ports = configured.ports.empty() ? std::vector<std::string>{} : split_list(configured.ports);
  if (ports.size() > 1 && ports.size() != hosts.size()) co_return std::nullopt;  // libpq says what is wrong
  bool any_name = false;
  for (const auto& host : hosts) any_name = any_name || (!is_socket_path(host) && !is_numeric(host));
  if (!any_name) co_return std::nullopt;

  HostList resolved;
  auto add = [&resolved](std::string_view host, std::string_view address, std::string_view port) {
    const bool first = resolved.hosts.empty() && resolved.hostaddrs.empty() && resolved.ports.empty();
    const std::string_view comma = first ? "" : ",";
    resolved.hosts += fmt::format("{}{}", comma, host);
    resolved.hostaddrs += fmt::format("{}{}", comma, address);
    resolved.ports += fmt::format("{}{}", comma, port);
  };
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string& host = hosts[i];
    const std::string port = ports.empty() ? "" : ports[ports.size() == 1 ? 0 : i];
    if (is_socket_path(host) || host.empty()) {
      add(host, "", port);
    } else if (is_numeric(host)) {
      add(host, host, port);
    } else {
      // Created, then awaited: GCC 12 mishandles non-trivial temporaries
      // (here, the by-value copy of `host`) in a co_await full-expression.
      auto looking = lookup(host, deadline);
      auto found = co_await std::move(looking);
      if (!found) co_return found.error();
      for (const auto& entry : *found) add(host, entry.endpoint().address().to_string(), port);
    }
  }
  if (ports.empty()) resolved.ports.clear();
  co_return resolved;
}

}  // namespace

// An operation left by an exception (its coroutine was cancelled, and Asio
// throws on the next co_await) leaves libpq mid-statement: drop the
// connection rather than hand it to the next request in that state.
class AsyncConnection::UnwindGuard {
 public:
  explicit UnwindGuard(AsyncConnection& connection)
      : connection_(connection), exceptions_(std::uncaught_exceptions()) {}
  UnwindGuard(const UnwindGuard&) = delete;
  UnwindGuard& operator=(const UnwindGuard&) = delete;
  UnwindGuard(UnwindGuard&&) = delete;
  UnwindGuard& operator=(UnwindGuard&&) = delete;
  ~UnwindGuard() {
    if (std::uncaught_exceptions() <= exceptions_) return;
    // Already unwinding: a second exception would terminate the process.
    try {
      connection_.disarm();
      connection_.close();
    } catch (...) {  // see above: the connection is dropped either way
    }
  }

 private:
  AsyncConnection& connection_;
  int exceptions_;
};

AsyncConnection::AsyncConnection(const asio::any_io_executor& executor,
                                 std::shared_ptr<const ConnectionSettings> settings)
    : settings_(std::move(settings)), socket_(executor), deadline_(executor) {}

AsyncConnection::~AsyncConnection() {
  close();
}

void AsyncConnection::close() {
  // The descriptor first, without closing it: the socket is libpq's to close.
  if (socket_.is_open()) socket_.release();
  conn_.reset();
}

bool AsyncConnection::still_usable() {
  if (!conn_) return false;
  pollfd entry{PQsocket(conn_.get()), POLLIN, 0};
  // An idle connection has nothing to read. If it has, the server has most
  // likely said goodbye (a restart: "terminating connection due to
  // administrator command", then the end of the stream), and libpq would
  // only notice on the next statement, failing it. A rare notice read this
  // way costs one reconnection; a request failed for nothing costs a 503.
  if (entry.fd < 0 || ::poll(&entry, 1, 0) != 0 || PQstatus(conn_.get()) != CONNECTION_OK) {
    close();
    return false;
  }
  return true;
}

bool AsyncConnection::watch_socket() {
  // libpq may change sockets while connecting (the next host, or no SSL after
  // SSL was refused), and may already have closed the old one: release the
  // old wrapper without closing, and wrap whatever is current.
  if (socket_.is_open()) socket_.release();
  const int fd = PQsocket(conn_.get());
  if (fd < 0) return false;
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  return !ec;
}

void AsyncConnection::arm(Clock::time_point deadline) {
  timed_out_ = false;
  const auto generation = ++generation_;
  deadline_.expires_at(deadline);
  deadline_.async_wait([this, generation](const boost::system::error_code& ec) {
    if (ec || generation != generation_) return;
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
}

void AsyncConnection::disarm() {
  ++generation_;
  deadline_.cancel();
}

void AsyncConnection::abort() {
  aborted_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

asio::awaitable<PgResult<void>> AsyncConnection::wait(WaitType type) {
  if (aborted_) co_return PgError{StoreError::Kind::kUnavailable, "", "shutting down"};
  auto [ec] = co_await socket_.async_wait(type, kAwaitable);
  if (aborted_) co_return PgError{StoreError::Kind::kUnavailable, "", "shutting down"};
  if (timed_out_) co_return PgError{StoreError::Kind::kUnavailable, "57014", "timed out"};
  if (ec) co_return PgError{StoreError::Kind::kUnavailable, "", ec.message()};
  co_return PgResult<void>{};
}

PgError AsyncConnection::broken(std::string_view what) {
  PgError error{StoreError::Kind::kUnavailable, "",
                fmt::format("{}: {}", what, conn_ ? settings_->clean(PQerrorMessage(conn_.get())) : "no connection")};
  close();
  return error;
}

asio::awaitable<PgResult<void>> AsyncConnection::connect() {
  close();
  const auto deadline = Clock::now() + settings_->connect_timeout;
  const std::string where = fmt::format("cannot connect to PostgreSQL at {}", settings_->redacted_url);
  auto resolving = resolve_hosts(settings_->url, deadline);
  auto hosts = co_await std::move(resolving);
  if (!hosts) co_return PgError{hosts.error().kind, "", fmt::format("{}: {}", where, hosts.error().message)};

  // Keywords are applied in order: the URL (dbname, expanded) overrides the
  // application name; the resolved hosts and the encoding override the URL.
  std::vector<const char*> keywords{"fallback_application_name", "dbname"};
  std::vector<const char*> values{"users-api", settings_->url.c_str()};
  if (*hosts) {
    for (const auto& [keyword, value] :
         {std::pair{"host", &(*hosts)->hosts}, std::pair{"hostaddr", &(*hosts)->hostaddrs},
          std::pair{"port", &(*hosts)->ports}}) {
      if (value->empty()) continue;
      keywords.push_back(keyword);
      values.push_back(value->c_str());
    }
  }
  // Text in and out is UTF-8, whatever the server's or the URL's default.
  keywords.push_back("client_encoding");
  values.push_back("UTF8");
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  conn_.reset(PQconnectStartParams(keywords.data(), values.data(), 1));
  if (!conn_ || PQstatus(conn_.get()) == CONNECTION_BAD) co_return broken(where);
  const UnwindGuard guard(*this);
  arm(deadline);
  // As documented: start as if PQconnectPoll had asked to wait for writing.
  auto polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED || !watch_socket()) {
      disarm();
      co_return broken(where);
    }
    auto waited = co_await wait(polling == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write);
    if (!waited) {
      disarm();
      close();
      co_return PgError{StoreError::Kind::kUnavailable, "",
                        timed_out_ ? fmt::format("{}: timed out after {} ms", where, settings_->connect_timeout.count())
                                   : fmt::format("{}: {}", where, waited.error().message)};
    }
    polling = PQconnectPoll(conn_.get());
  }
  disarm();
  if (PQsetnonblocking(conn_.get(), 1) != 0 || !watch_socket()) co_return broken(where);
  PQsetNoticeReceiver(conn_.get(), ignore_notice, nullptr);
  co_return PgResult<void>{};
}

asio::awaitable<PgResult<ResultHandle>> AsyncConnection::execute(std::string sql, Clock::duration timeout) {
  if (!conn_) co_return PgError{StoreError::Kind::kUnavailable, "", "not connected"};
  if (PQsendQuery(conn_.get(), sql.c_str()) == 0) co_return broken("cannot send a statement");
  arm(Clock::now() + timeout);
  co_return co_await finish_query();
}

asio::awaitable<PgResult<ResultHandle>> AsyncConnection::execute_prepared(const char* name,
                                                                          std::span<const char* const> params) {
  if (!conn_) co_return PgError{StoreError::Kind::kUnavailable, "", "not connected"};
  if (PQsendQueryPrepared(conn_.get(), name, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0) ==
      0) {
    co_return broken("cannot send a statement");
  }
  // The server's statement_timeout normally answers first (57014, and the
  // connection stays usable); this later deadline covers a server that
  // cannot answer at all (stopped, or cut off by the network).
  arm(Clock::now() + settings_->statement_timeout + kClientGrace);
  co_return co_await finish_query();
}

asio::awaitable<PgResult<ResultHandle>> AsyncConnection::execute_params(const char* sql,
                                                                        std::span<const char* const> params) {
  if (!conn_) co_return PgError{StoreError::Kind::kUnavailable, "", "not connected"};
  if (PQsendQueryParams(conn_.get(), sql, static_cast<int>(params.size()), nullptr, params.data(), nullptr, nullptr,
                        0) == 0) {
    co_return broken("cannot send a statement");
  }
  arm(Clock::now() + settings_->statement_timeout + kClientGrace);
  co_return co_await finish_query();
}

// Sends what libpq has buffered, then reads every result of the statement
// (libpq needs all of them read before the next one). The deadline is armed.
asio::awaitable<PgResult<ResultHandle>> AsyncConnection::finish_query() {
  auto fail = [this](std::string_view what) {
    disarm();
    if (timed_out_) {
      close();
      return PgError{StoreError::Kind::kUnavailable, "57014",
                     fmt::format("no answer from PostgreSQL within the statement timeout ({} ms); connection closed",
                                 settings_->statement_timeout.count())};
    }
    return broken(what);
  };
  const UnwindGuard guard(*this);
  for (;;) {
    const int flushed = PQflush(conn_.get());
    if (flushed == 0) break;
    if (flushed < 0) co_return fail("cannot send a statement");
    if (auto waited = co_await wait(WaitType::wait_write); !waited) co_return fail("cannot send a statement");
    if (PQconsumeInput(conn_.get()) == 0) co_return fail("connection lost");
  }
  ResultHandle kept;
  for (;;) {
    while (PQisBusy(conn_.get()) != 0) {
      if (auto waited = co_await wait(WaitType::wait_read); !waited) co_return fail("connection lost");
      if (PQconsumeInput(conn_.get()) == 0) co_return fail("connection lost");
    }
    ResultHandle next(PQgetResult(conn_.get()));
    if (!next) break;
    // Keep the first error; otherwise the last result.
    if (!kept || !result_error(*settings_, conn_.get(), kept.get())) kept = std::move(next);
  }
  disarm();
  if (auto error = result_error(*settings_, conn_.get(), kept.get())) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) close();
    co_return *error;
  }
  co_return kept;
}

}  // namespace users::storage::postgres
