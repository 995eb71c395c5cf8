// The URL map of the reference (DRF's DefaultRouter under /api/), with
// Django's APPEND_SLASH redirect for paths that lack their trailing slash.
// The routes themselves are in route_table.hpp.
#pragma once

#include <string>
#include <string_view>

#include "api/route_table.hpp"

namespace users::api {

struct Route {
  using Kind = RouteKind;

  Kind kind = Kind::kNotFound;
  std::string user_id;   // kUserItem: the path segment, percent-decoded
  std::string asset;     // kDocsAsset: the file name, one of kDocsAssets
  std::string location;  // kRedirect: the same path and query, with the slash
  // Template for logs and metrics: "/api/users/{id}/", never the raw path.
  std::string_view name;
};

Route match_route(std::string_view target);

}  // namespace users::api
