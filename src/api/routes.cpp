#include "api/routes.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace users::api {
namespace {

constexpr std::string_view kUsersPath = "/api/users/";
constexpr std::string_view kDocsPath = "/api/docs/";

// DefaultRouter's lookup pattern: [^/.]+
bool is_lookup_segment(std::string_view segment) {
  return !segment.empty() && segment.find_first_of("/.") == std::string_view::npos;
}

enum class Match { kNone, kExact, kMissingSlash };

struct PathMatch {
  Match match = Match::kNone;
  Route::Kind kind = Route::Kind::kNotFound;
  std::string parameter;  // the {id} or {asset} segment
};

// The table's paths without parameters; those ending in "/" also answer
// their slashless form with a redirect, as Django's APPEND_SLASH does.
bool is_fixed(std::string_view path) {
  return path.find('{') == std::string_view::npos;
}

PathMatch match_path(std::string_view path) {
  for (const auto& route : kRouteTable) {
    if (!is_fixed(route.path)) continue;
    if (path == route.path) return {Match::kExact, route.kind, {}};
    if (route.path.ends_with('/') && path == route.path.substr(0, route.path.size() - 1)) {
      return {Match::kMissingSlash, route.kind, {}};
    }
  }
  if (path.starts_with(kDocsPath)) {
    const auto asset = path.substr(kDocsPath.size());
    for (const auto known : kDocsAssets) {
      if (asset == known) return {Match::kExact, Route::Kind::kDocsAsset, std::string(asset)};
    }
    return {};
  }
  if (!path.starts_with(kUsersPath)) return {};
  std::string_view rest = path.substr(kUsersPath.size());
  const bool has_slash = rest.ends_with('/');
  if (has_slash) rest.remove_suffix(1);
  if (!is_lookup_segment(rest)) return {};
  return {has_slash ? Match::kExact : Match::kMissingSlash, Route::Kind::kUserItem, std::string(rest)};
}

}  // namespace

Route match_route(std::string_view target) {
  Route route;
  // Origin form ("/api/?x"; "//x/y" is a path, not a host) and absolute form
  // ("http://host/api/").
  const auto url = target.starts_with('/') ? boost::urls::parse_origin_form(target) : boost::urls::parse_uri(target);
  if (!url || url->encoded_path().empty() || url->encoded_path().front() != '/') {
    route.kind = Route::Kind::kBadTarget;
    route.name = route_label(route.kind);
    return route;
  }
  // Django matches the percent-decoded path.
  const std::string path = url->path();
  PathMatch found = match_path(path);
  switch (found.match) {
    case Match::kNone: route.kind = Route::Kind::kNotFound; break;
    case Match::kExact:
      route.kind = found.kind;
      if (found.kind == Route::Kind::kDocsAsset) {
        route.asset = std::move(found.parameter);
      } else {
        route.user_id = std::move(found.parameter);
      }
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
  route.name = route_label(route.kind);
  return route;
}

}  // namespace users::api
