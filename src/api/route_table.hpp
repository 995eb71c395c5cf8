// Every route the server answers, in one table that everything reads: the
// matcher (routes.cpp), the Allow header and 405 (users_api.cpp), the labels
// of logs and metrics (app.cpp hands them to observability::Metrics), and the
// OpenAPI test, which holds the document to exactly these paths and methods.
//
// Adding a route: one row here, its matching in routes.cpp if it is not a
// fixed path, and its handler in users_api.cpp's dispatch.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace users::api {

enum class RouteKind {
  kRoot,
  kUserList,
  kUserItem,
  kSchema,
  kDocs,
  kDocsAsset,
  kHealth,
  kReady,
  kMetrics,
  // Answers for targets that match no route.
  kRedirect,
  kNotFound,
  kBadTarget,
};
inline constexpr std::size_t kRouteKinds = 12;

struct RouteSpec {
  RouteKind kind;
  std::string_view path;   // the template, as the OpenAPI document names it
  std::string_view allow;  // the Allow header: these methods are answered, others get 405
  std::string_view label;  // for logs and metrics: a fixed set, never the raw path
  bool ops;                // an operations endpoint: GET only, never a browsable page
};

inline constexpr RouteSpec kRouteTable[] = {
    {RouteKind::kRoot, "/api/", "GET, HEAD, OPTIONS", "/api/", false},
    {RouteKind::kUserList, "/api/users/", "GET, POST, HEAD, OPTIONS", "/api/users/", false},
    {RouteKind::kUserItem, "/api/users/{id}/", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS", "/api/users/{id}/", false},
    {RouteKind::kSchema, "/api/schema/", "GET", "/api/schema/", true},
    {RouteKind::kDocs, "/api/docs/", "GET", "/api/docs/", true},
    {RouteKind::kDocsAsset, "/api/docs/{asset}", "GET", "/api/docs/", true},
    {RouteKind::kHealth, "/healthz", "GET", "/healthz", true},
    {RouteKind::kReady, "/readyz", "GET", "/readyz", true},
    {RouteKind::kMetrics, "/metrics", "GET", "/metrics", true},
};

// What a target that is no route gets labelled.
struct UnroutedSpec {
  RouteKind kind;
  std::string_view label;
};
inline constexpr UnroutedSpec kUnroutedTable[] = {
    {RouteKind::kRedirect, "redirect"},
    {RouteKind::kNotFound, "not-found"},
    {RouteKind::kBadTarget, "bad-target"},
};

// The files under /api/docs/.
inline constexpr std::string_view kDocsAssets[] = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js",
                                                   "users-api.js"};

namespace detail {
constexpr std::size_t rows_for(RouteKind kind) {
  std::size_t rows = 0;
  for (const auto& row : kRouteTable) {
    if (row.kind == kind && !row.label.empty() && !row.allow.empty()) ++rows;
  }
  for (const auto& row : kUnroutedTable) {
    if (row.kind == kind && !row.label.empty()) ++rows;
  }
  return rows;
}
constexpr bool every_kind_has_one_labelled_row() {
  for (std::size_t kind = 0; kind < kRouteKinds; ++kind) {
    if (rows_for(static_cast<RouteKind>(kind)) != 1) return false;
  }
  return std::size(kRouteTable) + std::size(kUnroutedTable) == kRouteKinds;
}
}  // namespace detail
static_assert(detail::every_kind_has_one_labelled_row(),
              "every RouteKind needs exactly one row with a label (and, for a route, its methods)");

// The label of a kind, for logs and metrics.
constexpr std::string_view route_label(RouteKind kind) {
  for (const auto& row : kRouteTable) {
    if (row.kind == kind) return row.label;
  }
  for (const auto& row : kUnroutedTable) {
    if (row.kind == kind) return row.label;
  }
  return "other";
}

// Its row; null for the kinds that are no route.
constexpr const RouteSpec* route_spec(RouteKind kind) {
  for (const auto& row : kRouteTable) {
    if (row.kind == kind) return &row;
  }
  return nullptr;
}

// Every distinct label, in table order, for the metrics.
constexpr std::size_t kRouteLabelCount = [] {
  std::size_t count = 0;
  for (std::size_t i = 0; i < std::size(kRouteTable); ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < i; ++j) seen = seen || kRouteTable[j].label == kRouteTable[i].label;
    if (!seen) ++count;
  }
  return count + std::size(kUnroutedTable);
}();
inline constexpr std::array<std::string_view, kRouteLabelCount> kRouteLabels = [] {
  std::array<std::string_view, kRouteLabelCount> labels{};
  std::size_t next = 0;
  for (const auto& row : kRouteTable) {
    bool seen = false;
    for (std::size_t j = 0; j < next; ++j) seen = seen || labels[j] == row.label;
    if (!seen) labels[next++] = row.label;
  }
  for (const auto& row : kUnroutedTable) labels[next++] = row.label;
  return labels;
}();

}  // namespace users::api
