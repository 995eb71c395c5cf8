// The URL map of the reference (DRF's DefaultRouter under /api/), with
// Django's APPEND_SLASH redirect for paths that lack their trailing slash.
#pragma once

#include <string>
#include <string_view>

namespace users::api {

struct Route {
  enum class Kind { kRoot, kUserList, kUserItem, kRedirect, kNotFound, kBadTarget };

  Kind kind = Kind::kNotFound;
  std::string user_id;   // kUserItem: the path segment, percent-decoded
  std::string location;  // kRedirect: the same path and query, with the slash
  // Template for logs and metrics: "/api/users/{id}/", never the raw path.
  std::string_view name;
};

Route match_route(std::string_view target);

}  // namespace users::api
