#include "api/users_api.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <fmt/format.h>

#include "api/json_text.hpp"
#include "api/request_body.hpp"
#include "api/routes.hpp"
#include "domain/messages.hpp"
#include "domain/text.hpp"
#include "domain/validation.hpp"
#include "observability/log.hpp"

namespace users::api {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using bhttp::status;
using bhttp::verb;
using domain::User;
using domain::UserId;
using storage::StoreError;

namespace {

constexpr std::string_view kRootAllow = "GET, HEAD, OPTIONS";
constexpr std::string_view kListAllow = "GET, POST, HEAD, OPTIONS";
constexpr std::string_view kItemAllow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
constexpr std::string_view kNotFound = "Not found.";

// DRF's metadata documents (OPTIONS), for the media types users-api really
// renders and parses.
constexpr std::string_view kMediaTypes =
    R"("renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded"])";
constexpr std::string_view kUserFieldsMetadata =
    R"({"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},)"
    R"("dni":{"type":"string","required":true,"read_only":false,"label":"Dni","max_length":13},)"
    R"("name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":30}})";

// Headers every DRF view answers with (Django's security middleware adds the
// last four).
http::Response api_response(status code, std::string body, std::string_view allow) {
  http::Response response;
  auto& message = response.message;
  message.result(code);
  if (!body.empty()) message.set(bhttp::field::content_type, "application/json");
  if (!allow.empty()) {
    message.set(bhttp::field::allow, allow);
    message.set(bhttp::field::vary, "Accept");
  }
  message.set("X-Frame-Options", "DENY");
  message.set("X-Content-Type-Options", "nosniff");
  message.set("Referrer-Policy", "same-origin");
  message.set("Cross-Origin-Opener-Policy", "same-origin");
  message.body() = std::move(body);
  return response;
}

http::Response not_found(std::string_view allow) { return api_response(status::not_found, detail_json(kNotFound), allow); }

// The one place where a storage failure becomes what the client sees.
http::Response store_failure(const StoreError& error, std::string_view allow) {
  switch (error.kind) {
    case StoreError::Kind::kNotFound:
      return not_found(allow);
    case StoreError::Kind::kBusy:
    case StoreError::Kind::kUnavailable: {
      observability::log_warning("database unavailable", {{"detail", error.detail}});
      auto response = api_response(status::service_unavailable,
                                   detail_json("Service temporarily unavailable, try again later."), allow);
      response.message.set(bhttp::field::retry_after, "1");
      return response;
    }
    case StoreError::Kind::kDniTaken:
    case StoreError::Kind::kInternal:
      break;
  }
  observability::log_error("database error", {{"detail", error.detail}});
  return api_response(status::internal_server_error, detail_json("A server error occurred."), allow);
}

http::Response method_not_allowed(const http::Request& request, std::string_view allow) {
  return api_response(status::method_not_allowed,
                      detail_json(fmt::format("Method \"{}\" not allowed.", std::string_view(request.method_string()))),
                      allow);
}

http::Response options_response(std::string_view name, std::string_view description, std::string_view actions,
                                std::string_view allow) {
  std::string body = R"({"name":)";
  append_json_string(body, name);
  body += R"(,"description":)";
  append_json_string(body, description);
  body += ',';
  body += kMediaTypes;
  if (!actions.empty()) {
    body += R"(,"actions":{)";
    body += actions;
    body += '}';
  }
  body += '}';
  return api_response(status::ok, std::move(body), allow);
}

http::Response user_response(status code, const User& user, std::string_view allow) {
  return api_response(code, user_json(user), allow);
}

// Streams GET /api/users/ page by page: memory stays flat however many users
// there are, and the first bytes leave before the last row is read.
class UserListStream final : public http::BodyStream {
 public:
  UserListStream(storage::UserStore& store, std::size_t page_size, std::vector<User> first_page)
      : store_(store), page_size_(page_size), page_(std::move(first_page)) {
    out_ = "[";
    append_page();
  }

  asio::awaitable<boost::system::result<std::string_view, http::StreamFailure>> next() override {
    if (!out_.empty()) {
      pending_ = std::move(out_);
      out_.clear();
      co_return std::string_view(pending_);
    }
    if (finished_) co_return std::string_view();
    auto page = co_await store_.list_page(last_id_, page_size_, std::move(page_));
    if (!page) co_return http::StreamFailure{page.error().detail};
    page_ = std::move(*page);
    append_page();
    pending_ = std::move(out_);
    out_.clear();
    co_return std::string_view(pending_);
  }

 private:
  void append_page() {
    for (const User& user : page_) {
      if (!first_) out_ += ',';
      first_ = false;
      append_user(out_, user);
    }
    if (!page_.empty()) last_id_ = page_.back().id;
    if (page_.size() < page_size_) {
      out_ += ']';
      finished_ = true;
    }
  }

  storage::UserStore& store_;
  std::size_t page_size_;
  std::vector<User> page_;
  std::string out_;
  std::string pending_;
  UserId last_id_ = 0;
  bool first_ = true;
  bool finished_ = false;
};

std::string_view content_type_of(const http::Request& request) {
  const auto value = request[bhttp::field::content_type];
  return {value.data(), value.size()};
}

}  // namespace

UsersApi::UsersApi(storage::UserStore& store, ApiOptions options) : store_(store), options_(std::move(options)) {}

namespace {

// Handlers for each route. They share the store and options, take the request
// by value (it must outlive every co_await), and never throw.
class RequestContext {
 public:
  RequestContext(storage::UserStore& store, const ApiOptions& options, http::Request request)
      : store_(store), options_(options), request_(std::move(request)) {}

  asio::awaitable<http::Response> dispatch() {
    const Route route = match_route(std::string_view(request_.target()));
    const verb method = request_.method();
    const bool read = method == verb::get || method == verb::head;
    switch (route.kind) {
      case Route::Kind::kBadTarget:
        co_return api_response(status::bad_request, detail_json("Malformed request target."), {});
      case Route::Kind::kNotFound:
        co_return not_found({});
      case Route::Kind::kRedirect: {
        auto response = api_response(status::moved_permanently, {}, {});
        response.message.set(bhttp::field::location, route.location);
        co_return response;
      }
      case Route::Kind::kRoot:
        if (read) co_return root();
        if (method == verb::options) {
          co_return options_response("Api Root", "The default basic root view for DefaultRouter", {}, kRootAllow);
        }
        co_return method_not_allowed(request_, kRootAllow);
      case Route::Kind::kUserList:
        if (read) co_return co_await list_users();
        if (method == verb::post) co_return co_await create_user();
        if (method == verb::options) {
          co_return options_response("User List", "", fmt::format(R"("POST":{})", kUserFieldsMetadata), kListAllow);
        }
        co_return method_not_allowed(request_, kListAllow);
      case Route::Kind::kUserItem:
        co_return co_await user_item(route.user_id);
    }
    co_return not_found({});
  }

 private:
  http::Response root() {
    std::string host(request_[bhttp::field::host]);
    if (host.empty()) host = options_.default_host;
    const auto authority = boost::urls::parse_authority(host);
    if (!authority || authority->has_userinfo()) {
      return api_response(status::bad_request, detail_json("Invalid Host header."), kRootAllow);
    }
    std::string body = R"({"users":)";
    append_json_string(body, fmt::format("http://{}/api/users/", host));
    body += '}';
    return api_response(status::ok, std::move(body), kRootAllow);
  }

  asio::awaitable<http::Response> list_users() {
    auto first_page = co_await store_.list_page(0, options_.list_page_size, {});
    if (!first_page) co_return store_failure(first_page.error(), kListAllow);
    if (first_page->size() < options_.list_page_size) {
      std::string body = "[";
      for (std::size_t i = 0; i < first_page->size(); ++i) {
        if (i != 0) body += ',';
        append_user(body, (*first_page)[i]);
      }
      body += ']';
      co_return api_response(status::ok, std::move(body), kListAllow);
    }
    auto response = api_response(status::ok, {}, kListAllow);
    response.message.set(bhttp::field::content_type, "application/json");
    response.stream = std::make_unique<UserListStream>(store_, options_.list_page_size, std::move(*first_page));
    co_return response;
  }

  asio::awaitable<http::Response> create_user() {
    auto input = parse_user_body(content_type_of(request_), request_.body());
    if (!input) co_return api_response(input.error().status, std::move(input.error().json), kListAllow);

    // The reference's own check, before any validation: the dni exactly as sent.
    const auto as_sent = domain::dni_as_sent(*input);
    if (as_sent) {
      auto exists = co_await store_.dni_exists(std::string(*as_sent), std::nullopt);
      if (!exists) co_return store_failure(exists.error(), kListAllow);
      if (*exists) co_return already_exists();
    }

    auto outcome = domain::validate(*input, domain::WriteMode::kCreate);
    if (outcome.changes.dni && outcome.changes.dni != as_sent) {
      auto taken = co_await check_dni_taken(*outcome.changes.dni, std::nullopt, outcome.errors);
      if (!taken) co_return store_failure(taken.error(), kListAllow);
    }
    if (!outcome.errors.empty()) {
      co_return api_response(status::bad_request, field_errors_json(outcome.errors), kListAllow);
    }

    auto created = co_await store_.create(*outcome.changes.dni, *outcome.changes.name);
    if (created) co_return user_response(status::created, *created, kListAllow);
    if (created.error().kind != StoreError::Kind::kDniTaken) co_return store_failure(created.error(), kListAllow);
    // Lost a race for the dni: answer as the request would have been answered
    // had it arrived second.
    if (as_sent == outcome.changes.dni) co_return already_exists();
    co_return dni_taken_response(kListAllow);
  }

  asio::awaitable<http::Response> user_item(const std::string& id_text) {
    const verb method = request_.method();
    const bool known = method == verb::get || method == verb::head || method == verb::put ||
                       method == verb::patch || method == verb::delete_ || method == verb::options;
    if (!known) co_return method_not_allowed(request_, kItemAllow);

    const auto id = domain::text::parse_python_int(id_text);
    if (method == verb::options) {
      bool exists = false;
      if (id) {
        auto user = co_await store_.find(*id);
        exists = user && user->has_value();
      }
      co_return options_response("User Instance", "",
                                 exists ? fmt::format(R"("PUT":{})", kUserFieldsMetadata) : std::string(),
                                 kItemAllow);
    }
    if (!id) co_return not_found(kItemAllow);
    if (method == verb::delete_) {
      auto removed = co_await store_.remove(*id);
      if (!removed) co_return store_failure(removed.error(), kItemAllow);
      co_return api_response(status::no_content, {}, kItemAllow);
    }

    auto user = co_await store_.find(*id);
    if (!user) co_return store_failure(user.error(), kItemAllow);
    if (!user->has_value()) co_return not_found(kItemAllow);
    if (method == verb::get || method == verb::head) co_return user_response(status::ok, **user, kItemAllow);
    co_return co_await update_user(*id, method == verb::put ? domain::WriteMode::kReplace : domain::WriteMode::kPatch);
  }

  asio::awaitable<http::Response> update_user(UserId id, domain::WriteMode mode) {
    auto input = parse_user_body(content_type_of(request_), request_.body());
    if (!input) co_return api_response(input.error().status, std::move(input.error().json), kItemAllow);
    auto outcome = domain::validate(*input, mode);
    if (outcome.changes.dni) {
      auto taken = co_await check_dni_taken(*outcome.changes.dni, id, outcome.errors);
      if (!taken) co_return store_failure(taken.error(), kItemAllow);
    }
    if (!outcome.errors.empty()) {
      co_return api_response(status::bad_request, field_errors_json(outcome.errors), kItemAllow);
    }
    auto updated = co_await store_.update(id, std::move(outcome.changes));
    if (updated) co_return user_response(status::ok, *updated, kItemAllow);
    if (updated.error().kind == StoreError::Kind::kDniTaken) co_return dni_taken_response(kItemAllow);
    co_return store_failure(updated.error(), kItemAllow);
  }

  // Adds DRF's uniqueness message to the dni's errors when another user has it.
  asio::awaitable<storage::StoreResult<void>> check_dni_taken(const std::string& dni, std::optional<UserId> except,
                                                               domain::FieldErrors& errors) {
    auto exists = co_await store_.dni_exists(dni, except);
    if (!exists) co_return exists.error();
    if (*exists) errors.dni.push_back(domain::messages::kDniTaken);
    co_return storage::StoreResult<void>{};
  }

  static http::Response already_exists() {
    return api_response(status::bad_request, detail_json(domain::messages::kUserAlreadyExists), kListAllow);
  }

  static http::Response dni_taken_response(std::string_view allow) {
    domain::FieldErrors errors;
    errors.dni.push_back(domain::messages::kDniTaken);
    return api_response(status::bad_request, field_errors_json(errors), allow);
  }

  storage::UserStore& store_;
  const ApiOptions& options_;
  http::Request request_;
};

}  // namespace

asio::awaitable<http::Response> UsersApi::handle(http::Request request) {
  RequestContext context(store_, options_, std::move(request));
  try {
    co_return co_await context.dispatch();
  } catch (const std::exception& e) {
    observability::log_error("request failed", {{"error", e.what()}});
  }
  co_return api_response(status::internal_server_error, detail_json("A server error occurred."), {});
}

}  // namespace users::api
