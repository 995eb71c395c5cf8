#include "api/routes.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace users::api {
namespace {

constexpr std::string_view kRootPath = "/api/";
constexpr std::string_view kUsersPath = "/api/users/";

// DefaultRouter's lookup pattern: [^/.]+
bool is_lookup_segment(std::string_view segment) {
  return !segment.empty() && segment.find_first_of("/.") == std::string_view::npos;
}

enum class Match { kNone, kExact, kMissingSlash };

struct PathMatch {
  Match match = Match::kNone;
  Route::Kind kind = Route::Kind::kNotFound;
  std::string user_id;
};

constexpr std::string_view kDocsPath = "/api/docs/";

struct FixedPath {
  std::string_view path;
  Route::Kind kind;
};
// Paths without parameters. Those ending in "/" also answer their slashless
// form with a redirect, as Django's APPEND_SLASH does.
constexpr FixedPath kFixedPaths[] = {
    {"/healthz", Route::Kind::kHealth},     {"/readyz", Route::Kind::kReady},   {"/metrics", Route::Kind::kMetrics},
    {"/api/schema/", Route::Kind::kSchema}, {"/api/docs/", Route::Kind::kDocs},
};

PathMatch match_path(std::string_view path) {
  for (const auto& fixed : kFixedPaths) {
    if (path == fixed.path) return {Match::kExact, fixed.kind, {}};
    if (fixed.path.ends_with('/') && path == fixed.path.substr(0, fixed.path.size() - 1)) {
      return {Match::kMissingSlash, fixed.kind, {}};
    }
  }
  if (path.starts_with(kDocsPath)) {
    const auto asset = path.substr(kDocsPath.size());
    for (const auto known : kDocsAssets) {
      if (asset == known) return {Match::kExact, Route::Kind::kDocsAsset, std::string(asset)};
    }
    return {};
  }
  if (path == kRootPath) return {Match::kExact, Route::Kind::kRoot, {}};
  if (path == kRootPath.substr(0, kRootPath.size() - 1)) return {Match::kMissingSlash, Route::Kind::kRoot, {}};
  if (path == kUsersPath) return {Match::kExact, Route::Kind::kUserList, {}};
  if (path == kUsersPath.substr(0, kUsersPath.size() - 1)) return {Match::kMissingSlash, Route::Kind::kUserList, {}};
  if (!path.starts_with(kUsersPath)) return {};
  std::string_view rest = path.substr(kUsersPath.size());
  const bool has_slash = rest.ends_with('/');
  if (has_slash) rest.remove_suffix(1);
  if (!is_lookup_segment(rest)) return {};
  return {has_slash ? Match::kExact : Match::kMissingSlash, Route::Kind::kUserItem, std::string(rest)};
}

std::string_view route_name(Route::Kind kind) {
  switch (kind) {
    case Route::Kind::kRoot: return "/api/";
    case Route::Kind::kUserList: return "/api/users/";
    case Route::Kind::kUserItem: return "/api/users/{id}/";
    case Route::Kind::kHealth: return "/healthz";
    case Route::Kind::kReady: return "/readyz";
    case Route::Kind::kMetrics: return "/metrics";
    case Route::Kind::kSchema: return "/api/schema/";
    case Route::Kind::kDocs:
    case Route::Kind::kDocsAsset: return "/api/docs/";
    case Route::Kind::kRedirect: return "redirect";
    case Route::Kind::kBadTarget: return "bad-target";
    case Route::Kind::kNotFound: break;
  }
  return "not-found";
}

}  // namespace

Route match_route(std::string_view target) {
  Route route;
  // Origin form ("/api/?x"; "//x/y" is a path, not a host) and absolute form
  // ("http://host/api/").
  const auto url = target.starts_with('/') ? boost::urls::parse_origin_form(target) : boost::urls::parse_uri(target);
  if (!url || url->encoded_path().empty() || url->encoded_path().front() != '/') {
    route.kind = Route::Kind::kBadTarget;
    route.name = route_name(route.kind);
    return route;
  }
  // Django matches the percent-decoded path.
  const std::string path = url->path();
  PathMatch found = match_path(path);
  switch (found.match) {
    case Match::kNone: route.kind = Route::Kind::kNotFound; break;
    case Match::kExact:
      route.kind = found.kind;
      route.user_id = std::move(found.user_id);
      break;
    case Match::kMissingSlash:
      route.kind = Route::Kind::kRedirect;
      route.location = std::string(url->encoded_path()) + "/";
      if (url->has_query()) {
        route.location += '?';
        route.location += url->encoded_query();
      }
      break;
  }
  route.name = route_name(route.kind);
  return route;
}

}  // namespace users::api
