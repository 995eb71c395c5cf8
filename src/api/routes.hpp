// The URL map of the reference (DRF's DefaultRouter under /api/), with
// Django's APPEND_SLASH redirect for paths that lack their trailing slash.
#pragma once

#include <string>
#include <string_view>

namespace users::api {

struct Route {
  enum class Kind {
    kRoot,
    kUserList,
    kUserItem,
    kHealth,
    kReady,
    kMetrics,
    kSchema,
    kDocs,
    kDocsAsset,
    kRedirect,
    kNotFound,
    kBadTarget
  };

  Kind kind = Kind::kNotFound;
  std::string user_id;   // kUserItem: the path segment, percent-decoded; kDocsAsset: the file name
  std::string location;  // kRedirect: the same path and query, with the slash
  // Template for logs and metrics: "/api/users/{id}/", never the raw path.
  std::string_view name;
};

Route match_route(std::string_view target);

// Every route the server answers, with its methods: the OpenAPI document must
// list exactly these (a test holds them to it).
struct RouteSpec {
  std::string_view path;
  std::string_view allow;  // as in the Allow header
};
inline constexpr RouteSpec kRouteTable[] = {
    {"/api/", "GET, HEAD, OPTIONS"},
    {"/api/users/", "GET, POST, HEAD, OPTIONS"},
    {"/api/users/{id}/", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"},
    {"/healthz", "GET"},
    {"/readyz", "GET"},
    {"/metrics", "GET"},
    {"/api/schema/", "GET"},
    {"/api/docs/", "GET"},
    {"/api/docs/{asset}", "GET"},
};
// The files under /api/docs/.
inline constexpr std::string_view kDocsAssets[] = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js",
                                                   "users-api.js"};

}  // namespace users::api
