#include "auth/jwks_fetcher.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <mutex>
#include <thread>

#include "common/database_url.hpp"

namespace users::auth {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

struct Endpoint {
  std::string host;  // a name, or an IP address without brackets
  bool is_name = true;
  std::string port;
  std::string target;
};

boost::system::result<Endpoint, std::string> parse_https_url(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {boost::system::in_place_error, "JWT_JWKS_URL is not a URL: " + parsed.error().message()};
  if (parsed->scheme_id() != boost::urls::scheme::https) {
    // The keys decide who may call the API: fetched over plain http, anyone
    // on the path could substitute their own.
    return {boost::system::in_place_error, "JWT_JWKS_URL must be an https:// URL"};
  }
  Endpoint endpoint;
  endpoint.host = parsed->host_address();
  if (endpoint.host.empty()) return {boost::system::in_place_error, "JWT_JWKS_URL has no host"};
  endpoint.is_name = parsed->host_type() == boost::urls::host_type::name;
  endpoint.port = parsed->has_port() ? std::string{parsed->port()} : std::string{"443"};
  endpoint.target = parsed->encoded_path().empty() ? std::string{"/"} : std::string{parsed->encoded_path()};
  if (parsed->has_query()) endpoint.target += "?" + std::string{parsed->encoded_query()};
  return endpoint;
}

}  // namespace

struct JwksFetcher::Impl {
  FetcherOptions options;
  // The URL as logs and /readyz show it: a password in its user part is
  // replaced by "***".
  std::string shown_url;
  Endpoint endpoint;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  asio::io_context io{1};
  asio::steady_timer timer{io};
  bool wake = false;  // the io thread's only
  std::string last_body;
  std::chrono::seconds backoff{1};

  std::atomic<std::shared_ptr<const KeySet>> keys;
  std::atomic<std::uint64_t> fetches{0};
  std::atomic<Steady::rep> next_unknown_kid_fetch{0};
  mutable std::mutex failure_mutex;
  std::string failure = "the first fetch has not finished";
  std::thread thread;

  void fetch_soon() {
    asio::post(io, [this] {
      wake = true;
      timer.cancel();
    });
  }

  void record_failure(const std::string& why) {
    {
      const std::lock_guard lock(failure_mutex);
      failure = why;
    }
    const bool have_keys = keys.load(std::memory_order_acquire) != nullptr;
    options.events.notify(have_keys ? Events::Severity::kWarning : Events::Severity::kError,
                          have_keys ? "JWKS fetch failed, the last good key set stays in use" : "JWKS fetch failed",
                          why);
  }

  void record_body(std::string body) {
    auto parsed = parse_jwks(body);
    if (!parsed) {
      record_failure(fmt::format("{}: {}", shown_url, parsed.error()));
      return;
    }
    const auto previous = keys.load(std::memory_order_acquire);
    if (previous && body == last_body) return;
    const std::uint64_t generation = previous ? previous->generation + 1 : 1;
    const std::size_t count = (*parsed)->size();
    keys.store(std::make_shared<const KeySet>(KeySet{std::move(*parsed), generation}), std::memory_order_release);
    last_body = std::move(body);
    options.events.notify(Events::Severity::kInfo, "JWKS loaded", fmt::format("{} keys from {}", count, shown_url));
  }

  // The body, or why there is none.
  using Body = boost::system::result<std::string, std::string>;
  static Body failed(std::string why) { return {boost::system::in_place_error, std::move(why)}; }

  asio::awaitable<Body> fetch() {
    const auto executor = co_await asio::this_coro::executor;
    const auto fail = [this](std::string_view step, const boost::system::error_code& ec) {
      return failed(fmt::format("{}: {}: {}", shown_url, step, ec.message()));
    };
    const auto deadline = Steady::now() + options.timeout;
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);

    tcp::resolver resolver(executor);
    asio::steady_timer resolve_guard(executor, deadline);
    resolve_guard.async_wait([&resolver](const boost::system::error_code& wait_error) {
      if (!wait_error) resolver.cancel();
    });
    const auto addresses = co_await resolver.async_resolve(endpoint.host, endpoint.port, token);
    resolve_guard.cancel();
    if (ec) co_return fail("resolve", ec);

    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    // SNI, for servers that host several names; never for an IP address (RFC 6066 section 3).
    if (endpoint.is_name && SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str()) != 1) {
      co_return failed(fmt::format("{}: cannot set the TLS server name", shown_url));
    }
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await beast::get_lowest_layer(stream).async_connect(addresses, token);
    if (ec) co_return fail("connect", ec);
    co_await stream.async_handshake(asio::ssl::stream_base::client, token);
    if (ec) co_return fail("TLS handshake", ec);

    http::request<http::empty_body> request{http::verb::get, endpoint.target, 11};
    request.set(http::field::host, endpoint.is_name ? endpoint.host : std::string{"["} + endpoint.host + "]");
    request.set(http::field::user_agent, "users-api/" USERS_API_VERSION);
    request.set(http::field::accept, "application/json");
    request.set(http::field::connection, "close");
    co_await http::async_write(stream, request, token);
    if (ec) co_return fail("send", ec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options.max_bytes);
    co_await http::async_read(stream, buffer, parser, token);
    if (ec == http::error::body_limit) {
      co_return failed(fmt::format("{}: the response is larger than {} bytes", shown_url, options.max_bytes));
    }
    if (ec) co_return fail("receive", ec);
    const auto& response = parser.get();
    if (response.result() != http::status::ok) {
      co_return failed(fmt::format("{}: HTTP status {}", shown_url, response.result_int()));
    }
    // No TLS close_notify exchange: the whole body has arrived (length or
    // chunked framing), and a server slow to answer it must not hold the loop.
    auto message = parser.release();
    co_return Body{boost::system::in_place_value, std::move(message.body())};
  }

  asio::awaitable<void> run() {
    while (true) {
      wake = false;
      Body body = failed("the fetch failed unexpectedly");
      // Nothing in a fetch is expected to throw (errors are values); should
      // something (memory), the loop must go on, or the keys would never
      // refresh again.
      try {
        body = co_await fetch();
      } catch (const std::exception& e) {
        body = failed(fmt::format("{}: {}", shown_url, e.what()));
      }
      if (body) {
        record_body(std::move(*body));
      } else {
        record_failure(body.error());
      }
      fetches.fetch_add(1, std::memory_order_release);
      // Until the first success, retry sooner than the refresh interval
      // (1 s doubling to 60 s): /readyz is 503 meanwhile.
      std::chrono::seconds delay = options.refresh;
      if (keys.load(std::memory_order_acquire) == nullptr) {
        delay = std::min(delay, backoff);
        backoff = std::min(backoff * 2, std::chrono::seconds{60});
      } else {
        backoff = std::chrono::seconds{1};
      }
      if (wake) continue;
      timer.expires_after(delay);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

boost::system::result<std::unique_ptr<JwksFetcher>, std::string> JwksFetcher::start(FetcherOptions options) {
  auto endpoint = parse_https_url(options.url);
  if (!endpoint) return endpoint.error();
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  impl->tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (options.ca_file.empty()) {
    impl->tls.set_default_verify_paths(ec);
    if (ec) return "cannot load the system's CA certificates: " + ec.message();
  } else {
    impl->tls.load_verify_file(options.ca_file, ec);
    if (ec) return fmt::format("JWT_JWKS_CA_FILE {}: not a readable PEM file of CA certificates", options.ca_file);
  }
  impl->options = std::move(options);
  impl->shown_url = common::redact_url(impl->options.url);
  impl->endpoint = std::move(*endpoint);
  Impl& state = *impl;
  asio::co_spawn(state.io, state.run(), asio::detached);
  state.thread = std::thread([&state] { state.io.run(); });
  return std::unique_ptr<JwksFetcher>(new JwksFetcher(std::move(impl)));
}

JwksFetcher::JwksFetcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JwksFetcher::~JwksFetcher() {
  // Drops a fetch in flight: nothing waits for its result any more.
  impl_->io.stop();
  impl_->thread.join();
}

std::shared_ptr<const KeySet> JwksFetcher::current() const {
  return impl_->keys.load(std::memory_order_acquire);
}

std::optional<std::string> JwksFetcher::not_ready() const {
  if (impl_->keys.load(std::memory_order_acquire) != nullptr) return std::nullopt;
  const std::lock_guard lock(impl_->failure_mutex);
  return "JWKS not loaded yet: " + impl_->failure;
}

void JwksFetcher::unknown_kid() {
  const auto now = Steady::now().time_since_epoch().count();
  auto next = impl_->next_unknown_kid_fetch.load(std::memory_order_relaxed);
  const auto interval = std::chrono::duration_cast<Steady::duration>(impl_->options.unknown_kid_interval).count();
  // One caller wins the slot; the rest of the minute's unknown kids fetch nothing.
  if (now < next || !impl_->next_unknown_kid_fetch.compare_exchange_strong(next, now + interval)) return;
  impl_->fetch_soon();
}

void JwksFetcher::reload() {
  impl_->fetch_soon();
}

std::uint64_t JwksFetcher::fetches() const {
  return impl_->fetches.load(std::memory_order_acquire);
}

}  // namespace users::auth
