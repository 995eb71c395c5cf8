#include "api/browsable_presenter.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <vector>

#include "api/html.hpp"
#include "api/json_presenter.hpp"
#include "api/json_text.hpp"

namespace users::api {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using domain::User;

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";

html::PageHead head_for(Status status, std::string_view allow, std::string json) {
  return html::PageHead{static_cast<unsigned>(status), bhttp::obsolete_reason(status), allow, std::move(json)};
}

// Allow and Vary, the security headers, then (for a message page) the
// answer's Retry-After and WWW-Authenticate, the HTML content type and its
// Content-Security-Policy.
http::Response html_response(Status status, std::string body, std::string_view allow, const Problem* problem) {
  auto response = json_response(status, {}, allow);
  if (problem != nullptr) add_problem_headers(*problem, response.message);
  response.message.set(bhttp::field::content_type, kHtml);
  add_html_headers(response.message);
  response.message.body() = std::move(body);
  return response;
}

std::string_view title_of(Page page) {
  switch (page) {
    case Page::kRoot: return "Api Root";
    case Page::kList: return "User List";
    case Page::kItem:
    case Page::kNone: break;
  }
  return "User Instance";
}

// An error shown on its own: the JSON answer under the view's title.
http::Response message_page(const Problem& problem, Page page, std::string_view allow) {
  const auto head = head_for(problem.status, allow, json_body(problem));
  return html_response(problem.status, html::message_page(head, title_of(page)), allow, &problem);
}

// The answer to a GET of the list: its users as fetched.
http::Response list_view(UserListBody list, const BrowsableContext& context) {
  const bool truncated = list.users.size() > context.html_list_limit;
  if (truncated) list.users.resize(context.html_list_limit);
  std::string json = json_body(list);
  if (truncated) json.insert(json.size() - 1, ",...");
  const auto head = head_for(Status::ok, context.allow, std::move(json));
  return html_response(Status::ok, html::list_page(head, list.users, truncated, html::Form(), {}), context.allow,
                       nullptr);
}

// One page of a paginated list, with links to the pages beside it.
http::Response page_view(const UserPageBody& page, std::string_view allow) {
  const auto head = head_for(Status::ok, allow, json_body(page));
  const auto view = [](const std::optional<std::string>& url) {
    return url ? std::string_view(*url) : std::string_view();
  };
  const html::PageLinks links{view(page.previous), view(page.next)};
  return html_response(Status::ok, html::list_page(head, page.results, false, html::Form(), {}, links), allow, nullptr);
}

// The answer to a POST from the form: the list as it is now, the form (with
// what was sent and its errors, unless it succeeded) and the JSON answer.
asio::awaitable<http::Response> list_after_create(const Answer& answer, const BrowsableContext& context) {
  static const storage::ListQuery kEveryUser;
  auto fetch = context.store.list_page(
      kEveryUser, storage::ListWindow{context.html_list_limit + 1, 0, std::nullopt, false}, std::vector<User>());
  auto users = co_await std::move(fetch);
  if (!users) co_return message_page(store_failure(users.error(), context.failures), Page::kList, context.allow);
  const bool truncated = users->size() > context.html_list_limit;
  if (truncated) users->resize(context.html_list_limit);

  html::Form form;
  std::string notice;
  Status status = Status::bad_request;
  if (const auto* created = std::get_if<UserBody>(&answer.outcome)) {
    status = created->status;
    notice = fmt::format("Created user {}.", created->user.id);
  } else {
    form.dni = answer.submitted->dni;
    form.name = answer.submitted->name;
    if (const auto* errors = std::get_if<FieldErrorsBody>(&answer.outcome)) form.errors = errors->errors;
    if (const auto* problem = std::get_if<Problem>(&answer.outcome)) {
      status = problem->status;
      form.general_error = problem->message;
    }
  }
  const auto head = head_for(status, context.allow, json_body(answer.outcome));
  co_return html_response(status, html::list_page(head, *users, truncated, form, notice), context.allow, nullptr);
}

http::Response root_view(const Answer& answer, std::string_view allow) {
  if (const auto* problem = std::get_if<Problem>(&answer.outcome)) return message_page(*problem, Page::kRoot, allow);
  const auto head = head_for(Status::ok, allow, json_body(answer.outcome));
  return html_response(Status::ok, html::root_page(head), allow, nullptr);
}

http::Response item_view(const Answer& answer, std::string_view allow) {
  if (const auto* problem = std::get_if<Problem>(&answer.outcome)) return message_page(*problem, Page::kItem, allow);
  const User& user = std::get<UserBody>(answer.outcome).user;
  const auto head = head_for(Status::ok, allow, user_json(user));
  const html::Form form{user.dni, user.name, {}, {}};
  return html_response(Status::ok, html::item_page(head, user, form), allow, nullptr);
}

}  // namespace

asio::awaitable<http::Response> present_html(Answer answer, BrowsableContext context) {
  switch (answer.page) {
    case Page::kRoot: co_return root_view(answer, context.allow);
    case Page::kItem: co_return item_view(answer, context.allow);
    case Page::kList:
    case Page::kNone: break;
  }
  if (answer.submitted) {
    auto page = list_after_create(answer, context);
    co_return co_await std::move(page);
  }
  if (auto* list = std::get_if<UserListBody>(&answer.outcome)) co_return list_view(std::move(*list), context);
  if (const auto* page = std::get_if<UserPageBody>(&answer.outcome)) co_return page_view(*page, context.allow);
  if (const auto* problem = std::get_if<Problem>(&answer.outcome)) {
    co_return message_page(*problem, Page::kList, context.allow);
  }
  // A filter's field error (?dni= with a NUL).
  const auto head = head_for(Status::bad_request, context.allow, json_body(answer.outcome));
  co_return html_response(Status::bad_request, html::message_page(head, title_of(Page::kList)), context.allow, nullptr);
}

}  // namespace users::api
