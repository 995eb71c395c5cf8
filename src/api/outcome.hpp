// What a handler means, before anyone renders it: the JSON presenter
// (json_presenter.hpp) turns it into DRF's JSON, the browsable presenter
// (browsable_presenter.hpp) into the HTML pages a browser gets. Handlers
// never build bytes, and nothing parses what a presenter produced.
#pragma once

#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/user.hpp"
#include "domain/validation.hpp"
#include "storage/list_query.hpp"

namespace users::api {

using Status = boost::beast::http::status;

// One user: 200 for a read or an update, 201 for a create. `tagged` (ETAGS
// on, a read or an update of /api/users/{id}/): the JSON answer carries the
// user's ETag, and a GET or HEAD whose If-None-Match holds it is answered 304.
struct UserBody {
  Status status = Status::ok;
  domain::User user;
  bool tagged = false;
};

// The first chunk of the unpaginated list (the reference's bare array);
// `complete` when it holds every user the query keeps, else the JSON
// presenter streams the rest, by the same query.
struct UserListBody {
  std::vector<domain::User> users;
  bool complete = true;
  storage::ListQuery query;
  // The whole list as the JSON presenter rendered it before (api/list_cache.hpp;
  // `users` is then empty), or the store's data version when the JSON
  // presenter may keep what it renders of `users` for the next request.
  std::shared_ptr<const std::string> rendered;
  std::optional<std::string> cache_as;
};

// One page of the list in DRF's paginated shape: {"count", "next",
// "previous", "results"}; a cursor page has no count.
struct UserPageBody {
  std::optional<std::int64_t> count;
  std::optional<std::string> next;
  std::optional<std::string> previous;
  std::vector<domain::User> results;
};

// A 400 with DRF's messages per field.
struct FieldErrorsBody {
  domain::FieldErrors errors;
};

// Any other error: {"detail": message} or {"non_field_errors": [message]}
// (or, for a JWT that does not verify, simplejwt's token_not_valid body).
struct Problem {
  Status status = Status::bad_request;
  std::string message;
  bool non_field = false;
  unsigned retry_after = 0;      // seconds, sent as Retry-After; 0: none
  std::string_view challenge{};  // a 401's WWW-Authenticate
  bool token_not_valid = false;  // simplejwt's body instead of {"detail": ...}
};

// 204 after a delete; the user as it was goes to the audit trail, not the client.
struct NoContent {
  domain::User removed;
};

struct Redirect {
  std::string location;
};

// DRF's OPTIONS metadata; `fields_for` names the action whose fields are
// described ("POST", "PUT"), empty for none.
struct Metadata {
  std::string_view name;
  std::string_view description;
  std::string_view fields_for;
};

// The API root's links.
struct RootLinks {
  std::string users_url;
};

// /healthz and /readyz: {"status": state, "reason": reason}.
struct ProbeStatus {
  Status status = Status::ok;
  std::string_view state;
  std::string reason;
};

// A body served as it is (the schema, the docs and their assets, /metrics).
struct Content {
  std::string_view content_type;
  std::string body;
};

using Outcome = std::variant<UserBody, UserListBody, UserPageBody, FieldErrorsBody, Problem, NoContent, Redirect,
                             Metadata, RootLinks, ProbeStatus, Content>;

// Which browsable page may show an outcome when a browser asked for HTML;
// kNone: JSON whatever was asked (the reference's writes, OPTIONS, and 405s
// outside the item view).
enum class Page { kNone, kRoot, kList, kItem };

// The values a browser submitted, shown again beside their errors.
struct Submitted {
  std::string dni;
  std::string name;
};

struct Answer {
  Outcome outcome;
  Page page = Page::kNone;
  std::optional<Submitted> submitted;  // a create from the browsable form
};

}  // namespace users::api
