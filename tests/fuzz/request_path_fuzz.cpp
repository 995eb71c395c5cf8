// The whole request path in process: the input is what a client sends on one
// connection. Each request in it goes through what http/server.cpp does to
// it (the obs-fold scan, Beast's parser with the server's limits, the
// Transfer-Encoding and Host checks, the read-error answers), then
// api::UsersApi::handle on a real SQLite store (router, access checks, body
// parser, validation, the JSON or HTML presenter, a streamed list read to its
// end), and the answer is serialised as the server sends it. No socket: the
// coroutine runs on an io_context of its own. Every JSON body must parse.
//
// The store lives in a temporary directory for the whole run and is made
// anew once it holds kMaxUsers, so lists stay short and exec/s useful. A
// request with an Authorization header goes to a second UsersApi on the same
// store in AUTH_MODE=token (tokens "fuzz-read-token", users:read, and
// "fuzz-write-token", both scopes), so credentials, scopes and 401/403 are
// on the path too, and ETAGS=on (conditional requests); the others to the
// open API (AUTH_MODE=none, ETAGS=off).
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/client_address.hpp"
#include "api/cors.hpp"
#include "api/route_table.hpp"
#include "api/users_api.hpp"
#include "auth/authenticator.hpp"
#include "auth/openssl.hpp"
#include "fuzz/temp_dir.hpp"
#include "http/limits.hpp"
#include "http/server.hpp"
#include "http/wire.hpp"
#include "observability/metrics.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using users::http::Request;

// Requests answered per input at most (a pipelined connection).
constexpr int kMaxRequests = 8;
// Creates before the store is made anew.
constexpr int kMaxUsers = 64;

[[noreturn]] void fail(std::string_view what, const std::string& why) {
  std::fprintf(stderr, "request_path_fuzz: %.*s: %s\n", static_cast<int>(what.size()), what.data(), why.c_str());
  std::abort();
}

class World {
 public:
  World() {
    auto proxies = users::api::TrustedProxies::parse("127.0.0.0/8");
    if (!proxies) fail("TRUSTED_PROXIES", proxies.error());
    options_.access.trusted_proxies = std::move(*proxies);
    auto origins = users::api::cors::AllowedOrigins::parse("https://app.example", false);
    if (!origins) fail("CORS_ALLOWED_ORIGINS", origins.error());
    options_.access.origins = std::move(*origins);
    options_.list_page_size = 4;  // lists of a few users are streamed in several chunks
    options_.html_list_limit = 8;
    options_.metrics = &metrics_;
    const std::string tokens = (dir_.path() / "tokens.txt").string();
    std::ofstream(tokens) << "reader users:read " << hex_sha256("fuzz-read-token") << "\nwriter users:read,users:write "
                          << hex_sha256("fuzz-write-token") << "\n";
    auto made = users::auth::make_token_authenticator(users::auth::TokenSettings{tokens}, users::auth::Events{});
    if (!made) fail("API_TOKENS_FILE", made.error());
    authenticator_ = std::move(*made);
    guarded_options_ = options_;
    guarded_options_.access.authenticator = authenticator_.get();
    guarded_options_.etags = true;  // ETAGS=on: If-Match and If-None-Match on the path too
    reset();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  World(World&&) = delete;
  World& operator=(World&&) = delete;
  ~World() {
    api_.reset();
    guarded_api_.reset();
    store_.reset();
  }

  users::api::UsersApi& api() { return *api_; }
  users::api::UsersApi& guarded_api() { return *guarded_api_; }
  asio::io_context& io() { return io_; }

  void created() {
    if (++creates_ >= kMaxUsers) reset();
  }

 private:
  static std::string hex_sha256(std::string_view token) {
    const auto digest = users::auth::sha256(token);
    return users::auth::to_hex(digest.data(), digest.size());
  }

  void reset() {
    api_.reset();
    guarded_api_.reset();
    store_.reset();
    const auto path = dir_.path() / "db.sqlite3";
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ignored);
    users::storage::sqlite::SqliteOptions sqlite;
    sqlite.path = path.string();
    sqlite.cache_users = 16;
    if (auto migrated = users::storage::sqlite::migrate(sqlite); !migrated) fail("migrate", migrated.error());
    auto opened = users::storage::sqlite::open_store(sqlite);
    if (!opened) fail("open_store", opened.error());
    store_ = std::move(*opened);
    api_ = std::make_unique<users::api::UsersApi>(*store_, options_);
    guarded_api_ = std::make_unique<users::api::UsersApi>(*store_, guarded_options_);
    creates_ = 0;
  }

  // (In this order for tidy's padding check; ~World resets the APIs before
  // the store, and the store before the authenticator and the metrics.)
  users::observability::Metrics metrics_{users::api::kRouteLabels};
  users::fuzz::TempDir dir_{"users-api-fuzz"};
  users::api::ApiOptions options_;
  users::api::ApiOptions guarded_options_;
  std::unique_ptr<users::auth::Authenticator> authenticator_;
  std::unique_ptr<users::storage::UserStore> store_;
  std::unique_ptr<users::api::UsersApi> api_;
  std::unique_ptr<users::api::UsersApi> guarded_api_;
  asio::io_context io_{1};
  int creates_ = 0;
};

// Made on the first input; destroyed at exit (its directory removed) when
// libFuzzer ends normally, left behind after a crash.
World& world() {
  static World instance;
  return instance;
}

// http/server.cpp's has_one_host.
bool has_one_host(const Request& request) {
  const auto hosts = request.count(bhttp::field::host);
  return hosts == 1 || (hosts == 0 && request.version() < 11);
}

// What the server writes for a response: its handler's message (a streamed
// body read to the end) with the headers the server adds, serialised.
asio::awaitable<void> answer(users::api::UsersApi& api, Request request, std::string& wire, int& status) {
  const bool head_only = request.method() == bhttp::verb::head;
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  auto handling = api.handle(std::move(request), users::http::RequestInfo{"fuzz-request", "127.0.0.1:4000"});
  users::http::Response response = co_await std::move(handling);
  auto& message = response.message;
  message.version(version);
  message.keep_alive(keep_alive);
  message.set("X-Request-ID", "fuzz-request");
  if (response.stream) {
    std::string body;
    for (;;) {
      auto piece = co_await response.stream->next();
      if (!piece) break;
      if (piece->empty()) break;
      body += *piece;
    }
    message.body() = std::move(body);
  }
  // What the API sends as JSON is JSON (the presenters write it by hand).
  if (message[bhttp::field::content_type].starts_with("application/json") && !message.body().empty()) {
    boost::system::error_code ec;
    boost::json::parse(message.body(), ec);
    if (ec) fail("a JSON body that does not parse", message.body());
  }
  message.prepare_payload();
  if (head_only) message.body().clear();
  users::http::serialize(message, wire);
  status = static_cast<int>(message.result_int());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  const users::http::Limits limits;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string wire;
  for (int served = 0; served < kMaxRequests && !rest.empty(); ++served) {
    // await_header_block: a folded line is refused before Beast sees it.
    const std::string_view head = rest.substr(0, limits.max_header_bytes + 4);
    if (users::http::scan_header_block(head) == users::http::HeaderBlock::kFolded) {
      users::http::serialize(users::http::error_message(bhttp::status::bad_request, "folded", 11), wire);
      break;
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t used = 0;
    // What async_read does with a buffer: feed the parser what is left until
    // it is done; when the input runs out first, the peer has closed.
    for (;;) {
      const std::size_t n = parser.put(asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_more) {
        ec = {};
        if (n > 0 && used < rest.size()) continue;
        parser.put_eof(ec);
        break;
      }
      if (ec || parser.is_done()) break;
      if (n == 0 || used >= rest.size()) {  // nothing more will come
        parser.put_eof(ec);
        break;
      }
    }
    rest.remove_prefix(used);
    if (ec) {
      if (auto refused = users::http::answer_for_read_error(ec, limits)) users::http::serialize(*refused, wire);
      break;
    }
    if (auto refused = users::http::refuse_transfer_encoding(parser.get())) {
      users::http::serialize(*refused, wire);
      break;
    }
    if (!parser.is_done()) break;
    if (!has_one_host(parser.get())) break;

    int status = 0;
    std::exception_ptr failure;
    const bool credentials = parser.get().count(bhttp::field::authorization) > 0;
    asio::co_spawn(w.io(), answer(credentials ? w.guarded_api() : w.api(), parser.release(), wire, status),
                   [&failure](const std::exception_ptr& error) { failure = error; });
    w.io().restart();
    w.io().run();
    if (failure) std::rethrow_exception(failure);  // UsersApi::handle promises never to throw
    if (status == 0) std::abort();                 // the coroutine did not finish
    if (status == 201) w.created();
  }
  return 0;
}
