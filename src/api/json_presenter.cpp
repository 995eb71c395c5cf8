#include "api/json_presenter.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "api/conditional.hpp"
#include "api/json_text.hpp"
#include "api/messages.hpp"

namespace users::api {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using domain::User;

namespace {

// DRF's metadata documents (OPTIONS), for the media types users-api really
// renders and parses.
constexpr std::string_view kMediaTypes =
    R"("renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded"])";
constexpr std::string_view kUserFieldsMetadata =
    R"({"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},)"
    R"("dni":{"type":"string","required":true,"read_only":false,"label":"Dni","max_length":13},)"
    R"("name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":30}})";

void append_users(std::string& out, const std::vector<User>& users, bool first) {
  for (const User& user : users) {
    if (!first) out += ',';
    first = false;
    append_user(out, user);
  }
}

std::string metadata_json(const Metadata& metadata) {
  std::string body = R"({"name":)";
  append_json_string(body, metadata.name);
  body += R"(,"description":)";
  append_json_string(body, metadata.description);
  body += ',';
  body += kMediaTypes;
  if (!metadata.fields_for.empty()) {
    body += fmt::format(R"(,"actions":{{"{}":{}}})", metadata.fields_for, kUserFieldsMetadata);
  }
  body += '}';
  return body;
}

std::string probe_json(const ProbeStatus& probe) {
  std::string body = R"({"status":)";
  append_json_string(body, probe.state);
  if (!probe.reason.empty()) {
    body += R"(,"reason":)";
    append_json_string(body, probe.reason);
  }
  body += '}';
  return body;
}

// DRF's paginated shape; a cursor page has no count.
std::string page_json(const UserPageBody& page) {
  std::string out = "{";
  if (page.count) out += fmt::format(R"("count":{},)", *page.count);
  const auto link = [&out](std::string_view name, const std::optional<std::string>& url) {
    out += fmt::format(R"("{}":)", name);
    if (url) {
      append_json_string(out, *url);
    } else {
      out += "null";
    }
    out += ',';
  };
  link("next", page.next);
  link("previous", page.previous);
  out += R"("results":[)";
  append_users(out, page.results, true);
  out += "]}";
  return out;
}

// Streams GET /api/users/ page by page: memory stays flat however many users
// there are, and the first bytes leave before the last row is read.
class UserListStream final : public http::BodyStream {
 public:
  UserListStream(storage::UserStore& store, std::size_t page_size, UserListBody first,
                 std::optional<ListStreams::Slot> slot)
      : store_(store),
        page_size_(page_size),
        query_(std::move(first.query)),
        page_(std::move(first.users)),
        slot_(std::move(slot)) {
    out_.push_back('[');
    append_page();
  }

  asio::awaitable<boost::system::result<std::string_view, http::StreamFailure>> next() override {
    if (!out_.empty()) {
      pending_.swap(out_);
      out_.clear();
      co_return std::string_view(pending_);
    }
    if (finished_) co_return std::string_view();
    // (Built in its own statement: see the GCC 12 note in user_handlers.cpp.)
    auto fetch = store_.list_page(query_, storage::ListWindow{page_size_, 0, last_, false}, std::move(page_));
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
    append_users(out_, page_, first_);
    first_ = first_ && page_.empty();
    if (!page_.empty()) last_ = page_.back();
    if (page_.size() < page_size_) {
      out_ += ']';
      finished_ = true;
    }
  }

  storage::UserStore& store_;
  std::size_t page_size_;
  storage::ListQuery query_;
  std::vector<User> page_;
  std::optional<ListStreams::Slot> slot_;  // held until the client has it all, or is gone
  std::string out_;
  std::string pending_;
  std::optional<User> last_;  // the keyset position: the last row sent
  bool first_ = true;
  bool finished_ = false;
};

// A user's answer with its ETag, or 304 Not Modified when the GET or HEAD's
// If-None-Match already holds it (RFC 9110 13.1.2: weak comparison). A 304
// has the headers the 200 would have had that describe the representation
// (ETag, Vary, Allow) and no body; the server sends it without
// Content-Length.
http::Response tagged_user_response(const UserBody& body, const JsonContext& context) {
  const std::string tag = domain::entity_tag(body.user);
  if (body.status == Status::ok && !context.if_none_match.empty() &&
      weak_match(parse_entity_tags(context.if_none_match), tag)) {
    auto response = json_response(Status::not_modified, {}, context.allow);
    response.message.set(bhttp::field::etag, quoted_tag(tag));
    return response;
  }
  auto response = json_response(body.status, user_json(body.user), context.allow);
  response.message.set(bhttp::field::etag, quoted_tag(tag));
  return response;
}

http::Response content_response(std::string_view content_type, std::string body) {
  http::Response response;
  response.message.result(Status::ok);
  response.message.set(bhttp::field::content_type, content_type);
  response.fixed_headers = kSecurityHeaderLines;
  if (content_type.starts_with("text/html")) add_html_headers(response.message);
  response.message.body() = std::move(body);
  return response;
}

}  // namespace

void add_html_headers(http::Message& message) {
  message.set("Content-Security-Policy", kHtmlContentSecurityPolicy);
}

http::Response json_response(Status status, std::string body, std::string_view allow) {
  http::Response response;
  auto& message = response.message;
  message.result(status);
  if (!body.empty()) message.set(bhttp::field::content_type, "application/json");
  if (!allow.empty()) {
    message.set(bhttp::field::allow, allow);
    message.set(bhttp::field::vary, "Accept");
  }
  response.fixed_headers = kSecurityHeaderLines;
  message.body() = std::move(body);
  return response;
}

void add_problem_headers(const Problem& problem, http::Message& message) {
  if (problem.retry_after != 0) message.set(bhttp::field::retry_after, std::to_string(problem.retry_after));
  if (!problem.challenge.empty()) message.set(bhttp::field::www_authenticate, problem.challenge);
}

std::string json_body(const Outcome& outcome) {
  struct Render {
    std::string operator()(const UserBody& body) const { return user_json(body.user); }
    std::string operator()(const UserListBody& list) const {
      if (list.rendered) return *list.rendered;
      std::string out = "[";
      append_users(out, list.users, true);
      out += ']';
      return out;
    }
    std::string operator()(const UserPageBody& page) const { return page_json(page); }
    std::string operator()(const FieldErrorsBody& body) const { return field_errors_json(body.errors); }
    std::string operator()(const Problem& problem) const {
      if (problem.token_not_valid) return std::string(token_not_valid_json());
      return problem.non_field ? non_field_errors_json(problem.message) : detail_json(problem.message);
    }
    std::string operator()(const NoContent& /*none*/) const { return {}; }
    std::string operator()(const Redirect& /*redirect*/) const { return {}; }
    std::string operator()(const Metadata& metadata) const { return metadata_json(metadata); }
    std::string operator()(const RootLinks& links) const {
      std::string out = R"({"users":)";
      append_json_string(out, links.users_url);
      out += '}';
      return out;
    }
    std::string operator()(const ProbeStatus& probe) const { return probe_json(probe); }
    std::string operator()(const Content& content) const { return content.body; }
  };
  return std::visit(Render{}, outcome);
}

http::Response present_json(Outcome outcome, const JsonContext& context) {
  if (auto* content = std::get_if<Content>(&outcome)) {
    return content_response(content->content_type, std::move(content->body));
  }
  if (const auto* probe = std::get_if<ProbeStatus>(&outcome))
    return json_response(probe->status, json_body(*probe), {});
  if (auto* redirect = std::get_if<Redirect>(&outcome)) {
    auto response = json_response(Status::moved_permanently, {}, {});
    response.message.set(bhttp::field::location, redirect->location);
    return response;
  }
  if (auto* list = std::get_if<UserListBody>(&outcome); list != nullptr && !list->complete) {
    auto slot = context.streams != nullptr ? context.streams->try_acquire() : std::nullopt;
    if (context.streams != nullptr && !slot) {
      const Problem busy{Status::service_unavailable, std::string(kServiceUnavailableMessage), false, 1};
      auto response = json_response(busy.status, json_body(busy), context.allow);
      add_problem_headers(busy, response.message);
      return response;
    }
    auto response = json_response(Status::ok, {}, context.allow);
    response.message.set(bhttp::field::content_type, "application/json");
    response.stream =
        std::make_unique<UserListStream>(context.store, context.list_page_size, std::move(*list), std::move(slot));
    return response;
  }
  if (auto* list = std::get_if<UserListBody>(&outcome);
      list != nullptr && list->cache_as && !list->rendered && context.list_cache != nullptr) {
    auto json = std::make_shared<const std::string>(json_body(*list));
    context.list_cache->keep(std::move(*list->cache_as), json);
    return json_response(Status::ok, *json, context.allow);
  }
  Status status = Status::ok;
  if (const auto* user = std::get_if<UserBody>(&outcome)) {
    if (user->tagged) return tagged_user_response(*user, context);
    status = user->status;
  }
  if (std::holds_alternative<FieldErrorsBody>(outcome)) status = Status::bad_request;
  if (std::holds_alternative<NoContent>(outcome)) status = Status::no_content;
  const auto* problem = std::get_if<Problem>(&outcome);
  if (problem != nullptr) status = problem->status;
  auto response = json_response(status, json_body(outcome), context.allow);
  if (problem != nullptr) add_problem_headers(*problem, response.message);
  return response;
}

}  // namespace users::api
