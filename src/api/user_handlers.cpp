#include "api/user_handlers.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <vector>

#include "api/conditional.hpp"
#include "api/list_request.hpp"
#include "api/messages.hpp"
#include "api/request_body.hpp"
#include "domain/messages.hpp"
#include "domain/text.hpp"
#include "domain/validation.hpp"

// Every call that passes arguments by value to a coroutine creates the
// awaitable in one statement and co_awaits it in the next: GCC 12 mishandles
// temporaries that share a full-expression with co_await (they can be
// destroyed twice or not at all), and by-value parameters are such
// temporaries.
namespace users::api {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using bhttp::verb;
using domain::UserId;
using storage::StoreError;

namespace {

std::string_view header_of(const http::Request& request, bhttp::field field) {
  const auto value = request[field];
  return {value.data(), value.size()};
}

Problem body_problem(BodyError error) {
  return Problem{error.status, std::move(error.message), error.non_field};
}

Problem already_exists() {
  return Problem{Status::bad_request, std::string(domain::messages::kUserAlreadyExists)};
}

FieldErrorsBody dni_taken() {
  FieldErrorsBody body;
  body.errors.dni.push_back(domain::messages::kDniTaken);
  return body;
}

}  // namespace

Answer UserHandlers::root(const std::optional<std::string>& origin) {
  if (!origin) return {Problem{Status::bad_request, std::string(kInvalidHostMessage)}, Page::kRoot, std::nullopt};
  return {RootLinks{*origin + "/api/users/"}, Page::kRoot, std::nullopt};
}

Answer UserHandlers::root_metadata() {
  return {Metadata{"Api Root", "The default basic root view for DefaultRouter", {}}, Page::kNone, std::nullopt};
}

Answer UserHandlers::list_metadata() {
  return {Metadata{"User List", "", "POST"}, Page::kNone, std::nullopt};
}

asio::awaitable<Answer> UserHandlers::item_metadata(const std::string& id_text) {
  Metadata metadata{"User Instance", "", {}};
  if (const auto id = domain::text::parse_python_int(id_text)) {
    auto user = co_await store_.find(*id);
    if (!user) co_return Answer{failure(user.error()), Page::kNone, std::nullopt};
    // The fields of PUT are described only when there is a user to put.
    if (user->has_value()) metadata.fields_for = "PUT";
  }
  co_return Answer{metadata, Page::kNone, std::nullopt};
}

asio::awaitable<Answer> UserHandlers::list(std::size_t first_chunk, const ListFilters& filters,
                                           const PaginationOptions& pagination,
                                           const std::optional<std::string>& origin, const ListCache* cache) {
  auto request =
      read_list_request(std::string_view(request_.target()), filters, pagination.mode != PaginationMode::kNone);
  if (!request) co_return Answer{request.error(), Page::kList, std::nullopt};
  if (pagination.mode != PaginationMode::kNone) {
    if (!origin)
      co_return Answer{Problem{Status::bad_request, std::string(kInvalidHostMessage)}, Page::kList, std::nullopt};
    auto paging = paginate(*request, PageContext{store_, pagination, *origin, failures_});
    auto page = co_await std::move(paging);
    co_return Answer{std::move(page), Page::kList, std::nullopt};
  }
  // Taken before the read: see ListCache.
  std::optional<std::string> version;
  if (cache != nullptr && request->query.filter.empty() && request->query.ordering.empty()) {
    auto asking = store_.data_version();
    version = co_await std::move(asking);
  }
  if (version) {
    if (auto json = cache->find(*version)) {
      UserListBody kept;
      kept.rendered = std::move(json);
      co_return Answer{std::move(kept), Page::kList, std::nullopt};
    }
  }
  auto fetch = store_.list_page(request->query, storage::ListWindow{first_chunk, 0, std::nullopt, false}, {});
  auto users = co_await std::move(fetch);
  if (!users) co_return Answer{failure(users.error()), Page::kList, std::nullopt};
  const bool complete = users->size() < first_chunk;
  UserListBody body{std::move(*users), complete, std::move(request->query), nullptr, std::nullopt};
  if (complete) body.cache_as = std::move(version);
  co_return Answer{std::move(body), Page::kList, std::nullopt};
}

asio::awaitable<Answer> UserHandlers::create() {
  auto input = parse_user_body(header_of(request_, bhttp::field::content_type), request_.body());
  if (!input) co_return Answer{body_problem(input.error()), Page::kList, Submitted{}};
  auto creating = create_outcome(*input);
  auto outcome = co_await std::move(creating);
  co_return Answer{std::move(outcome), Page::kList, Submitted{input->dni.text, input->name.text}};
}

asio::awaitable<Outcome> UserHandlers::create_outcome(const domain::UserInput& input) {
  const auto as_sent = domain::dni_as_sent(input);
  auto outcome = domain::validate(input, domain::WriteMode::kCreate, rules_);
  // Valid, and to be stored exactly as sent: the insert's own uniqueness
  // check gives the answer the reference's look-up would (a taken dni is
  // kDniTaken, answered below as already_exists), so the look-up is saved:
  // one statement instead of a read, then a write.
  const bool insert_decides = outcome.errors.empty() && as_sent && outcome.changes.dni == as_sent;
  if (!insert_decides) {
    // The reference's own check, before any validation error: the dni
    // exactly as sent.
    if (as_sent) {
      auto lookup = store_.dni_exists(std::string(*as_sent), std::nullopt);
      auto exists = co_await std::move(lookup);
      if (!exists) co_return failure(exists.error());
      if (*exists) co_return already_exists();
    }
    if (outcome.dni_to_check_unique && outcome.dni_to_check_unique != as_sent) {
      auto taken = co_await check_dni_taken(*outcome.dni_to_check_unique, std::nullopt, outcome.errors);
      if (!taken) co_return failure(taken.error());
    }
    if (!outcome.errors.empty()) co_return FieldErrorsBody{std::move(outcome.errors)};
  }

  auto insert = store_.create(*outcome.changes.dni, *outcome.changes.name);
  auto created = co_await std::move(insert);
  // No ETag on a 201: its target is the list, and without Content-Location a
  // cache would take the tag for the list's (RFC 9110 8.8.3).
  if (created) co_return UserBody{Status::created, std::move(*created), false};
  if (created.error().kind != StoreError::Kind::kDniTaken) co_return failure(created.error());
  // Lost a race for the dni: answer as the request would have been answered
  // had it arrived second.
  if (as_sent == outcome.changes.dni) co_return already_exists();
  co_return dni_taken();
}

asio::awaitable<Answer> UserHandlers::item(const std::string& id_text) {
  const verb method = request_.method();
  const auto id = domain::text::parse_python_int(id_text);
  if (!id) co_return Answer{Problem{Status::not_found, std::string(kNotFoundMessage)}, Page::kItem, std::nullopt};
  if (method == verb::delete_) {
    auto removing = store_.remove(*id, precondition());
    auto removed = co_await std::move(removing);
    if (!removed) co_return Answer{failure(removed.error()), Page::kNone, std::nullopt};
    co_return Answer{NoContent{std::move(*removed)}, Page::kNone, std::nullopt};
  }

  auto user = co_await store_.find(*id);
  if (!user) co_return Answer{failure(user.error()), Page::kItem, std::nullopt};
  if (!user->has_value()) {
    co_return Answer{Problem{Status::not_found, std::string(kNotFoundMessage)}, Page::kItem, std::nullopt};
  }
  if (method == verb::get || method == verb::head) {
    co_return Answer{UserBody{Status::ok, std::move(**user), etags_}, Page::kItem, std::nullopt};
  }
  // RFC 9110 13.2.2: the precondition before the body is even read, so a
  // stale tag with an invalid body is a 412. The store checks it again,
  // atomically with the write; this only answers early.
  auto demanded = precondition();
  if (!demanded.admits(**user)) {
    co_return Answer{failure(StoreError{StoreError::Kind::kPreconditionFailed, {}}), Page::kNone, std::nullopt};
  }
  auto updating =
      update(*id, method == verb::put ? domain::WriteMode::kReplace : domain::WriteMode::kPatch, std::move(demanded));
  auto outcome = co_await std::move(updating);
  co_return Answer{std::move(outcome), Page::kNone, std::nullopt};
}

domain::Precondition UserHandlers::precondition() const {
  if (!etags_) return domain::Precondition::any_user();
  const std::string if_match = field_list(request_, bhttp::field::if_match);
  if (if_match.empty() && request_.find(bhttp::field::if_match) == request_.end()) {
    return domain::Precondition::any_user();
  }
  return write_precondition(parse_entity_tags(if_match));
}

asio::awaitable<Outcome> UserHandlers::update(UserId id, domain::WriteMode mode, domain::Precondition precondition) {
  auto input = parse_user_body(header_of(request_, bhttp::field::content_type), request_.body());
  if (!input) co_return body_problem(input.error());
  auto outcome = domain::validate(*input, mode, rules_);
  if (outcome.dni_to_check_unique) {
    auto taken = co_await check_dni_taken(*outcome.dni_to_check_unique, id, outcome.errors);
    if (!taken) co_return failure(taken.error());
  }
  if (!outcome.errors.empty()) co_return FieldErrorsBody{std::move(outcome.errors)};
  auto write = store_.update(id, std::move(outcome.changes), std::move(precondition));
  auto updated = co_await std::move(write);
  if (updated) co_return UserBody{Status::ok, std::move(*updated), etags_};
  if (updated.error().kind == StoreError::Kind::kDniTaken) co_return dni_taken();
  co_return failure(updated.error());
}

// Adds DRF's uniqueness message to the dni's errors when another user has it.
asio::awaitable<storage::StoreResult<void>> UserHandlers::check_dni_taken(const std::string& dni,
                                                                          std::optional<UserId> except,
                                                                          domain::FieldErrors& errors) {
  auto lookup = store_.dni_exists(dni, except);
  auto exists = co_await std::move(lookup);
  if (!exists) co_return exists.error();
  if (*exists) errors.dni.push_back(domain::messages::kDniTaken);
  co_return storage::StoreResult<void>{};
}

}  // namespace users::api
