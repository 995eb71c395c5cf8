#include "api/users_api.hpp"

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <exception>

#include "api/assets.hpp"
#include "api/html.hpp"
#include "api/json_text.hpp"
#include "api/negotiation.hpp"
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
constexpr std::string_view kGetOnly = "GET";
constexpr std::string_view kNotFound = "Not found.";

// DRF's metadata documents (OPTIONS), for the media types users-api really
// renders and parses.
constexpr std::string_view kMediaTypes =
    R"("renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded"])";
constexpr std::string_view kUserFieldsMetadata =
    R"({"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},)"
    R"("dni":{"type":"string","required":true,"read_only":false,"label":"Dni","max_length":13},)"
    R"("name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":30}})";

void add_security_headers(http::Message& message) {
  message.set("X-Frame-Options", "DENY");
  message.set("X-Content-Type-Options", "nosniff");
  message.set("Referrer-Policy", "same-origin");
  message.set("Cross-Origin-Opener-Policy", "same-origin");
}

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
  add_security_headers(message);
  message.body() = std::move(body);
  return response;
}

http::Response typed_response(status code, std::string_view content_type, std::string body) {
  http::Response response;
  response.message.result(code);
  response.message.set(bhttp::field::content_type, content_type);
  add_security_headers(response.message);
  response.message.body() = std::move(body);
  return response;
}

http::Response not_found(std::string_view allow) {
  return api_response(status::not_found, detail_json(kNotFound), allow);
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

std::string status_json(std::string_view state, std::string_view reason) {
  std::string body = R"({"status":)";
  append_json_string(body, state);
  if (!reason.empty()) {
    body += R"(,"reason":)";
    append_json_string(body, reason);
  }
  body += '}';
  return body;
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
      pending_.swap(out_);
      out_.clear();
      co_return std::string_view(pending_);
    }
    if (finished_) co_return std::string_view();
    auto fetch = store_.list_page(last_id_, page_size_, std::move(page_));
    auto page = co_await std::move(fetch);
    if (!page) co_return http::StreamFailure{page.error().detail};
    page_ = std::move(*page);
    append_page();
    pending_.swap(out_);
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

std::string_view header_of(const http::Request& request, bhttp::field field) {
  const auto value = request[field];
  return {value.data(), value.size()};
}

// The outcome of a create or an update, before it is rendered as JSON or HTML.
struct WriteOutcome {
  std::optional<User> user;             // success
  domain::FieldErrors field_errors;     // a 400 with messages per field
  std::optional<http::Response> other;  // any other answer, already rendered as JSON
};

// The first message of a DRF error body, for the browsable form.
std::string first_message(std::string_view json) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return std::string(json);
  const auto& object = value.as_object();
  if (const auto* detail = object.if_contains("detail"); detail != nullptr && detail->is_string()) {
    return std::string(detail->get_string());
  }
  if (const auto* errors = object.if_contains("non_field_errors");
      errors != nullptr && errors->is_array() && !errors->as_array().empty() && errors->as_array()[0].is_string()) {
    return std::string(errors->as_array()[0].get_string());
  }
  return std::string(json);
}

// Handlers for each route. They share the store and options, take the request
// by value (it must outlive every co_await), and never throw.
//
// Every call that passes arguments by value to a coroutine creates the
// awaitable in one statement and co_awaits it in the next: GCC 12 mishandles
// temporaries that share a full-expression with co_await (they can be
// destroyed twice or not at all), and by-value parameters are such
// temporaries.
class RequestContext {
 public:
  RequestContext(storage::UserStore& store, const ApiOptions& options, http::Request request)
      : store_(store), options_(options), request_(std::move(request)) {}

  asio::awaitable<http::Response> dispatch() {
    const Route route = match_route(std::string_view(request_.target()));
    http::Response response = co_await answer(route);
    response.route = route.name;
    co_return response;
  }

 private:
  asio::awaitable<http::Response> answer(const Route& route) {
    const verb method = request_.method();
    const bool read = method == verb::get || method == verb::head;
    switch (route.kind) {
      case Route::Kind::kBadTarget:
        co_return api_response(status::bad_request, detail_json("Malformed request target."), {});
      case Route::Kind::kNotFound: co_return not_found({});
      case Route::Kind::kRedirect: {
        auto response = api_response(status::moved_permanently, {}, {});
        response.message.set(bhttp::field::location, route.location);
        co_return response;
      }
      case Route::Kind::kHealth:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return api_response(status::ok, status_json("ok", {}), {});
      case Route::Kind::kReady:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return co_await readiness();
      case Route::Kind::kMetrics:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return typed_response(status::ok, "text/plain; version=0.0.4; charset=utf-8", options_.metrics_text());
      case Route::Kind::kSchema:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return typed_response(status::ok, "application/vnd.oai.openapi+json", std::string(assets::openapi_json()));
      case Route::Kind::kDocs:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return typed_response(status::ok, "text/html; charset=utf-8", html::docs_page());
      case Route::Kind::kDocsAsset:
        if (method != verb::get) co_return method_not_allowed(request_, kGetOnly);
        co_return docs_asset(route.user_id);
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
      case Route::Kind::kUserItem: co_return co_await user_item(route.user_id);
    }
    co_return not_found({});
  }

  [[nodiscard]] bool wants_html() const {
    return negotiate(header_of(request_, bhttp::field::accept), std::string_view(request_.target())) ==
           Representation::kHtml;
  }

  // The one place where a storage failure becomes what the client sees.
  http::Response store_failure(const StoreError& error, std::string_view allow) const {
    switch (error.kind) {
      case StoreError::Kind::kNotFound: return not_found(allow);
      case StoreError::Kind::kBusy:
      case StoreError::Kind::kUnavailable: {
        const bool busy = error.kind == StoreError::Kind::kBusy;
        if (options_.metrics != nullptr) options_.metrics->count_database_error(busy ? "busy" : "unavailable");
        observability::log_warning("database unavailable", {{"detail", error.detail}});
        auto response = api_response(status::service_unavailable,
                                     detail_json("Service temporarily unavailable, try again later."), allow);
        response.message.set(bhttp::field::retry_after, "1");
        return response;
      }
      case StoreError::Kind::kDniTaken:
      case StoreError::Kind::kInternal: break;
    }
    if (options_.metrics != nullptr) options_.metrics->count_database_error("internal");
    observability::log_error("database error", {{"detail", error.detail}});
    return api_response(status::internal_server_error, detail_json("A server error occurred."), allow);
  }

  asio::awaitable<http::Response> readiness() {
    using namespace asio::experimental::awaitable_operators;
    if (!options_.accepting_traffic()) {
      co_return api_response(status::service_unavailable, status_json("unavailable", "shutting down"), {});
    }
    asio::steady_timer deadline(co_await asio::this_coro::executor, options_.readiness_timeout);
    auto race = store_.ping() || deadline.async_wait(asio::use_awaitable);
    auto outcome = co_await std::move(race);
    if (outcome.index() == 1) {
      co_return api_response(status::service_unavailable, status_json("unavailable", "database timed out"), {});
    }
    const auto& pinged = std::get<0>(outcome);
    if (!pinged) {
      co_return api_response(status::service_unavailable,
                             status_json("unavailable", "database unavailable: " + pinged.error().detail), {});
    }
    co_return api_response(status::ok, status_json("ok", {}), {});
  }

  static http::Response docs_asset(std::string_view name) {
    if (name == "swagger-ui-bundle.js") {
      return typed_response(status::ok, "text/javascript; charset=utf-8", std::string(assets::swagger_ui_js()));
    }
    if (name == "swagger-ui.css") {
      return typed_response(status::ok, "text/css; charset=utf-8", std::string(assets::swagger_ui_css()));
    }
    if (name == "swagger-initializer.js") {
      return typed_response(status::ok, "text/javascript; charset=utf-8",
                            std::string(html::swagger_initializer_script()));
    }
    return typed_response(status::ok, "text/javascript; charset=utf-8", std::string(html::browsable_script()));
  }

  // A JSON answer shown as a browsable page, when a browser asked.
  http::Response as_html(http::Response response, std::string_view title) const {
    if (!wants_html()) return response;
    html::PageHead head{response.message.result_int(), response.message.reason(), response.message[bhttp::field::allow],
                        response.message.body()};
    response.message.body() = html::message_page(head, title);
    response.message.set(bhttp::field::content_type, "text/html; charset=utf-8");
    return response;
  }

  http::Response root() {
    std::string host(request_[bhttp::field::host]);
    if (host.empty()) host = options_.default_host;
    const auto authority = boost::urls::parse_authority(host);
    if (!authority || authority->has_userinfo()) {
      return as_html(api_response(status::bad_request, detail_json("Invalid Host header."), kRootAllow), "Api Root");
    }
    std::string body = R"({"users":)";
    append_json_string(body, fmt::format("http://{}/api/users/", host));
    body += '}';
    auto response = api_response(status::ok, std::move(body), kRootAllow);
    if (wants_html()) {
      html::PageHead head{200, "OK", kRootAllow, response.message.body()};
      response.message.body() = html::root_page(head);
      response.message.set(bhttp::field::content_type, "text/html; charset=utf-8");
    }
    return response;
  }

  asio::awaitable<http::Response> list_users() {
    if (wants_html()) {
      auto page = list_page(status::ok, html::Form(), std::string(), std::string());
      co_return co_await std::move(page);
    }
    auto fetch = store_.list_page(0, options_.list_page_size, std::vector<User>());
    auto first_page = co_await std::move(fetch);
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

  // The browsable list: the first users, the create form, and the answer.
  asio::awaitable<http::Response> list_page(status code, html::Form form, std::string notice, std::string json) {
    auto fetch = store_.list_page(0, options_.html_list_limit + 1, std::vector<User>());
    auto users = co_await std::move(fetch);
    if (!users) co_return as_html(store_failure(users.error(), kListAllow), "User List");
    const bool truncated = users->size() > options_.html_list_limit;
    if (truncated) users->resize(options_.html_list_limit);
    if (json.empty()) {
      json = "[";
      for (std::size_t i = 0; i < users->size(); ++i) {
        if (i != 0) json += ',';
        append_user(json, (*users)[i]);
      }
      json += truncated ? ",...]" : "]";
    }
    auto response = api_response(code, {}, kListAllow);
    html::PageHead head{response.message.result_int(), response.message.reason(), kListAllow, std::move(json)};
    response.message.body() = html::list_page(head, *users, truncated, form, notice);
    response.message.set(bhttp::field::content_type, "text/html; charset=utf-8");
    co_return response;
  }

  asio::awaitable<http::Response> create_user() {
    auto outcome = co_await create();
    if (!wants_html()) {
      if (outcome.user) co_return user_response(status::created, *outcome.user, kListAllow);
      if (outcome.other) co_return std::move(*outcome.other);
      co_return api_response(status::bad_request, field_errors_json(outcome.field_errors), kListAllow);
    }
    if (outcome.user) {
      auto page = list_page(status::created, html::Form(), fmt::format("Created user {}.", outcome.user->id),
                            user_json(*outcome.user));
      co_return co_await std::move(page);
    }
    html::Form form = submitted_form();
    if (outcome.other) {
      form.general_error = first_message(outcome.other->message.body());
      auto page = list_page(outcome.other->message.result(), std::move(form), std::string(),
                            std::move(outcome.other->message.body()));
      co_return co_await std::move(page);
    }
    form.errors = outcome.field_errors;
    auto page = list_page(status::bad_request, std::move(form), std::string(), field_errors_json(outcome.field_errors));
    co_return co_await std::move(page);
  }

  // What the browser sent, to show it again beside its errors.
  html::Form submitted_form() const {
    html::Form form;
    const auto content_type = header_of(request_, bhttp::field::content_type);
    if (auto input = parse_user_body(content_type, request_.body())) {
      form.dni = input->dni.text;
      form.name = input->name.text;
    }
    return form;
  }

  asio::awaitable<WriteOutcome> create() {
    WriteOutcome result;
    auto input = parse_user_body(header_of(request_, bhttp::field::content_type), request_.body());
    if (!input) {
      result.other = api_response(input.error().status, std::move(input.error().json), kListAllow);
      co_return result;
    }

    // The reference's own check, before any validation: the dni exactly as sent.
    const auto as_sent = domain::dni_as_sent(*input);
    if (as_sent) {
      auto lookup = store_.dni_exists(std::string(*as_sent), std::nullopt);
      auto exists = co_await std::move(lookup);
      if (!exists) {
        result.other = store_failure(exists.error(), kListAllow);
        co_return result;
      }
      if (*exists) {
        result.other = already_exists();
        co_return result;
      }
    }

    auto outcome = domain::validate(*input, domain::WriteMode::kCreate);
    if (outcome.changes.dni && outcome.changes.dni != as_sent) {
      auto taken = co_await check_dni_taken(*outcome.changes.dni, std::nullopt, outcome.errors);
      if (!taken) {
        result.other = store_failure(taken.error(), kListAllow);
        co_return result;
      }
    }
    if (!outcome.errors.empty()) {
      result.field_errors = std::move(outcome.errors);
      co_return result;
    }

    auto insert = store_.create(*outcome.changes.dni, *outcome.changes.name);
    auto created = co_await std::move(insert);
    if (created) {
      result.user = std::move(*created);
    } else if (created.error().kind != StoreError::Kind::kDniTaken) {
      result.other = store_failure(created.error(), kListAllow);
    } else if (as_sent == outcome.changes.dni) {
      // Lost a race for the dni: answer as the request would have been
      // answered had it arrived second.
      result.other = already_exists();
    } else {
      result.field_errors.dni.push_back(domain::messages::kDniTaken);
    }
    co_return result;
  }

  asio::awaitable<http::Response> user_item(const std::string& id_text) {
    const verb method = request_.method();
    const bool known = method == verb::get || method == verb::head || method == verb::put || method == verb::patch ||
                       method == verb::delete_ || method == verb::options;
    if (!known) co_return as_html(method_not_allowed(request_, kItemAllow), "User Instance");

    const auto id = domain::text::parse_python_int(id_text);
    if (method == verb::options) {
      bool exists = false;
      if (id) {
        auto user = co_await store_.find(*id);
        exists = user && user->has_value();
      }
      co_return options_response("User Instance", "",
                                 exists ? fmt::format(R"("PUT":{})", kUserFieldsMetadata) : std::string(), kItemAllow);
    }
    if (!id) co_return as_html(not_found(kItemAllow), "User Instance");
    if (method == verb::delete_) {
      auto removed = co_await store_.remove(*id);
      if (!removed) co_return store_failure(removed.error(), kItemAllow);
      co_return api_response(status::no_content, {}, kItemAllow);
    }

    auto user = co_await store_.find(*id);
    if (!user) co_return as_html(store_failure(user.error(), kItemAllow), "User Instance");
    if (!user->has_value()) co_return as_html(not_found(kItemAllow), "User Instance");
    if (method == verb::get || method == verb::head) {
      auto response = user_response(status::ok, **user, kItemAllow);
      if (wants_html()) {
        html::PageHead head{200, "OK", kItemAllow, response.message.body()};
        html::Form form{(*user)->dni, (*user)->name, {}, {}};
        response.message.body() = html::item_page(head, **user, form);
        response.message.set(bhttp::field::content_type, "text/html; charset=utf-8");
      }
      co_return response;
    }
    co_return co_await update_user(*id, method == verb::put ? domain::WriteMode::kReplace : domain::WriteMode::kPatch);
  }

  asio::awaitable<http::Response> update_user(UserId id, domain::WriteMode mode) {
    auto input = parse_user_body(header_of(request_, bhttp::field::content_type), request_.body());
    if (!input) co_return api_response(input.error().status, std::move(input.error().json), kItemAllow);
    auto outcome = domain::validate(*input, mode);
    if (outcome.changes.dni) {
      auto taken = co_await check_dni_taken(*outcome.changes.dni, id, outcome.errors);
      if (!taken) co_return store_failure(taken.error(), kItemAllow);
    }
    if (!outcome.errors.empty()) {
      co_return api_response(status::bad_request, field_errors_json(outcome.errors), kItemAllow);
    }
    auto write = store_.update(id, std::move(outcome.changes));
    auto updated = co_await std::move(write);
    if (updated) co_return user_response(status::ok, *updated, kItemAllow);
    if (updated.error().kind == StoreError::Kind::kDniTaken) co_return dni_taken_response(kItemAllow);
    co_return store_failure(updated.error(), kItemAllow);
  }

  // Adds DRF's uniqueness message to the dni's errors when another user has it.
  asio::awaitable<storage::StoreResult<void>> check_dni_taken(const std::string& dni, std::optional<UserId> except,
                                                              domain::FieldErrors& errors) {
    auto lookup = store_.dni_exists(dni, except);
    auto exists = co_await std::move(lookup);
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

UsersApi::UsersApi(storage::UserStore& store, ApiOptions options) : store_(store), options_(std::move(options)) {}

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
