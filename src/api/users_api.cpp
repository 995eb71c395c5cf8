#include "api/users_api.hpp"

#include <fmt/format.h>
#include <exception>

#include "api/browsable_presenter.hpp"
#include "api/conditional.hpp"
#include "api/json_presenter.hpp"
#include "api/json_text.hpp"
#include "api/negotiation.hpp"
#include "api/ops_endpoints.hpp"
#include "api/request_origin.hpp"
#include "api/routes.hpp"
#include "api/user_handlers.hpp"
#include "observability/log.hpp"

namespace users::api {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using bhttp::verb;

namespace {

// Whether `method` is one of the comma-separated methods of an Allow value.
bool allows(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    const auto comma = allow.find(',');
    std::string_view token = allow.substr(0, comma);
    while (token.starts_with(' ')) token.remove_prefix(1);
    if (token == method) return true;
    allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 1);
  }
  return false;
}

// A target that is no route.
Outcome unrouted(const Route& route) {
  switch (route.kind) {
    case RouteKind::kBadTarget: return Problem{Status::bad_request, "Malformed request target."};
    case RouteKind::kRedirect: return Redirect{route.location};
    default: break;
  }
  return Problem{Status::not_found, std::string(kNotFoundMessage)};
}

// One request: its route, its handler, its presenter.
class Dispatch {
 public:
  Dispatch(storage::UserStore& store, const ApiOptions& options, const AccessControl& access, ListStreams& list_streams,
           ListCache& list_cache, const http::Request& request, http::RequestInfo info, Listener listener)
      : store_(store),
        options_(options),
        access_(access),
        list_streams_(list_streams),
        list_cache_(list_cache),
        request_(request),
        info_(info),
        listener_(listener),
        failures_{options.metrics, info.request_id},
        handlers_(store, request, failures_, options.validation, options.etags) {}

  asio::awaitable<http::Response> respond() {
    Route route = match_route(std::string_view(request_.target()));
    if (!served_here(route)) {
      route = Route{};
      route.name = route_label(route.kind);  // not found
    }
    // The operations port is the cluster's own (probes, Prometheus): no
    // credentials, hosts or throttles there, whatever the API demands.
    Admission admission = listener_ == Listener::kOps ? Admission{} : access_.admit(route, request_, info_);
    // A preflight, a refusal, or the route's own answer, awaited in this frame
    // (every coroutine a request passes through is a heap frame of its own).
    auto answering = admission.preflight ? answer_preflight(*admission.preflight)
                     : admission.refusal
                         ? present(Answer{std::move(*admission.refusal), page_of(route.kind), std::nullopt}, {})
                         : answer(route, admission);
    http::Response response = co_await std::move(answering);
    if (!admission.preflight) access_.add_cors_headers(route, request_, response.message);
    response.route = route.name;
    response.client = std::move(admission.client);
    if (admission.principal) response.principal = admission.principal->name;
    co_return response;
  }

 private:
  static asio::awaitable<http::Response> answer_preflight(cors::PreflightAnswer preflight) {
    auto response = json_response(static_cast<Status>(preflight.status), {}, {});
    for (auto& header : preflight.headers) response.message.set(header.name, header.value);
    co_return response;
  }

  [[nodiscard]] bool served_here(const Route& route) const {
    const RouteSpec* spec = route_spec(route.kind);
    return spec != nullptr ? serves(listener_, spec->served_on) : listener_ != Listener::kOps;
  }

  // The page a refusal is shown on when a browser asked for HTML.
  static Page page_of(RouteKind kind) {
    switch (kind) {
      case RouteKind::kRoot: return Page::kRoot;
      case RouteKind::kUserList: return Page::kList;
      case RouteKind::kUserItem: return Page::kItem;
      default: break;
    }
    return Page::kNone;
  }

  asio::awaitable<http::Response> answer(const Route& route, const Admission& admission) {
    const RouteSpec* spec = route_spec(route.kind);
    if (spec == nullptr) co_return present_json(unrouted(route), JsonContext{store_, options_.list_page_size, {}});
    const std::string_view method(request_.method_string());
    if (!allows(spec->allow, method)) {
      // The item view's 405 is browsable; the others are plain JSON.
      const Page page = route.kind == RouteKind::kUserItem ? Page::kItem : Page::kNone;
      Problem refused{Status::method_not_allowed, fmt::format("Method \"{}\" not allowed.", method)};
      auto presenting = present(Answer{std::move(refused), page, std::nullopt}, spec->allow);
      co_return co_await std::move(presenting);
    }
    if (spec->ops) {
      const OpsOptions ops{options_.accepting_traffic, options_.readiness_timeout, options_.metrics_text,
                           options_.not_ready};
      auto answering = answer_ops(route.kind, route.asset, store_, ops);
      auto outcome = co_await std::move(answering);
      // Their Allow header is only for the 405 above.
      const JsonContext context{store_, options_.list_page_size, {}};
      // (The analyzer does not model coroutine frames: it sees `outcome` moved twice.)
      co_return present_json(std::move(outcome), context);  // NOLINT(clang-analyzer-cplusplus.Move): moved once
    }
    // The item's GET, PUT, PATCH and DELETE, the busiest, skip the switch's frame.
    auto handling = route.kind == RouteKind::kUserItem && request_.method() != verb::options
                        ? handlers_.item(route.user_id)
                        : handle_user_route(route);
    auto answer = co_await std::move(handling);
    audit(answer.outcome, admission);
    if (presents_html(answer)) {
      auto presenting = present_page(std::move(answer), spec->allow);
      co_return co_await std::move(presenting);
    }
    // (As above: `answer` is moved only once.)
    co_return present_as_json(std::move(answer), spec->allow);  // NOLINT(clang-analyzer-cplusplus.Move)
  }

  asio::awaitable<Answer> handle_user_route(const Route& route) {
    const verb method = request_.method();
    switch (route.kind) {
      case RouteKind::kRoot:
        co_return method == verb::options ? UserHandlers::root_metadata() : UserHandlers::root(origin());
      case RouteKind::kUserList: {
        if (method == verb::options) co_return UserHandlers::list_metadata();
        if (method == verb::post) {
          auto creating = handlers_.create();
          co_return co_await std::move(creating);
        }
        // A browser's page shows fewer users than a full JSON chunk holds.
        const auto first_chunk = wants_html() ? options_.html_list_limit + 1 : options_.list_page_size;
        const auto links_origin = options_.pagination.mode == PaginationMode::kNone ? std::nullopt : origin();
        auto listing = handlers_.list(first_chunk, options_.list_filters, options_.pagination, links_origin,
                                      wants_html() ? nullptr : &list_cache_);
        co_return co_await std::move(listing);
      }
      case RouteKind::kUserItem: {
        auto handling =
            method == verb::options ? handlers_.item_metadata(route.user_id) : handlers_.item(route.user_id);
        co_return co_await std::move(handling);
      }
      default: break;
    }
    co_return Answer{Problem{Status::not_found, std::string(kNotFoundMessage)}, Page::kNone, std::nullopt};
  }

  // One line for every write that took effect: who changed which user.
  void audit(const Outcome& outcome, const Admission& admission) const {
    const verb method = request_.method();
    std::string_view action;
    const domain::User* user = nullptr;
    if (const auto* body = std::get_if<UserBody>(&outcome);
        body != nullptr && method != verb::get && method != verb::head) {
      action = method == verb::post ? "create" : method == verb::put ? "update" : "partial_update";
      user = &body->user;
    } else if (const auto* removed = std::get_if<NoContent>(&outcome)) {
      action = "delete";
      user = &removed->removed;
    }
    if (user == nullptr) return;
    observability::log_audit({{"action", action},
                              {"user_id", user->id},
                              {"dni", user->dni},
                              {"principal", admission.principal ? admission.principal->name : "anonymous"},
                              {"request_id", info_.request_id},
                              {"client", admission.client}});
  }

  // The scheme and host of the links the answer writes.
  [[nodiscard]] std::optional<std::string> origin() const {
    return request_origin(request_, info_.peer, access_.trusted_proxies(), options_.default_host);
  }

  [[nodiscard]] bool wants_html() const {
    const auto accept = request_[bhttp::field::accept];
    return negotiate({accept.data(), accept.size()}, std::string_view(request_.target())) == Representation::kHtml;
  }

  // Whether `answer` goes out as an HTML page (a browser asked for one).
  [[nodiscard]] bool presents_html(const Answer& answer) const { return answer.page != Page::kNone && wants_html(); }

  asio::awaitable<http::Response> present(Answer answer, std::string_view allow) {
    if (presents_html(answer)) {
      auto presenting = present_page(std::move(answer), allow);
      co_return co_await std::move(presenting);
    }
    // (The analyzer does not model coroutine frames: it sees `answer` moved twice.)
    co_return present_as_json(std::move(answer), allow);  // NOLINT(clang-analyzer-cplusplus.Move): moved once
  }

  // Not a coroutine either: present_html's own frame holds its arguments.
  asio::awaitable<http::Response> present_page(Answer answer, std::string_view allow) {
    return present_html(std::move(answer), BrowsableContext{store_, options_.html_list_limit, allow, failures_});
  }

  // Not a coroutine: a JSON answer is rendered at once.
  http::Response present_as_json(Answer answer, std::string_view allow) {
    // Only a read is answered 304 (If-None-Match on a write is not evaluated).
    const verb method = request_.method();
    const std::string if_none_match = options_.etags && (method == verb::get || method == verb::head)
                                          ? field_list(request_, bhttp::field::if_none_match)
                                          : std::string();
    const JsonContext context{store_, options_.list_page_size, allow, &list_streams_, if_none_match, &list_cache_};
    return present_json(std::move(answer.outcome), context);
  }

  storage::UserStore& store_;
  const ApiOptions& options_;
  const AccessControl& access_;
  ListStreams& list_streams_;
  ListCache& list_cache_;
  const http::Request& request_;
  http::RequestInfo info_;
  Listener listener_;
  FailureSink failures_;
  UserHandlers handlers_;
};

}  // namespace

UsersApi::UsersApi(storage::UserStore& store, ApiOptions options)
    : store_(store),
      options_(std::move(options)),
      access_(std::move(options_.access)),
      list_streams_(options_.max_list_streams) {}

asio::awaitable<http::Response> UsersApi::handle(http::Request request, http::RequestInfo info, Listener listener) {
  try {
    Dispatch dispatch(store_, options_, access_, list_streams_, list_cache_, request, info, listener);
    auto responding = dispatch.respond();
    co_return co_await std::move(responding);
  } catch (const std::exception& e) {
    observability::log_error("request failed", {{"error", e.what()}, {"request_id", info.request_id}});
  }
  co_return json_response(Status::internal_server_error, detail_json("A server error occurred."), {});
}

}  // namespace users::api
