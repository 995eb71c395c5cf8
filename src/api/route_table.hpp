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

// Which listener answers a route: the API's port, the operations port
// (OPS_PORT), or both. With OPS_PORT=0 the API's port answers everything.
enum class Listener : unsigned { kApi = 1U, kOps = 2U, kAll = 3U };
constexpr bool serves(Listener listener, Listener route) {
  return (static_cast<unsigned>(listener) & static_cast<unsigned>(route)) != 0U;
}

struct RouteSpec {
  std::string_view path;   // the template, as the OpenAPI document names it
  std::string_view allow;  // the Allow header: these methods are answered, others get 405
  std::string_view label;  // for logs and metrics: a fixed set, never the raw path
  RouteKind kind;
  bool ops;  // an operations endpoint: GET only, never a browsable page
  // Probes stay on the API's port as well (containers' health checks use
  // it); /metrics moves to the operations port, never reached from outside.
  Listener served_on = Listener::kApi;
};

inline constexpr RouteSpec kRouteTable[] = {
    {"/api/", "GET, HEAD, OPTIONS", "/api/", RouteKind::kRoot, false},
    {"/api/users/", "GET, POST, HEAD, OPTIONS", "/api/users/", RouteKind::kUserList, false},
    {"/api/users/{id}/", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS", "/api/users/{id}/", RouteKind::kUserItem, false},
    {"/api/schema/", "GET", "/api/schema/", RouteKind::kSchema, true},
    {"/api/docs/", "GET", "/api/docs/", RouteKind::kDocs, true},
    {"/api/docs/{asset}", "GET", "/api/docs/", RouteKind::kDocsAsset, true},
    {"/healthz", "GET", "/healthz", RouteKind::kHealth, true, Listener::kAll},
    {"/readyz", "GET", "/readyz", RouteKind::kReady, true, Listener::kAll},
    {"/metrics", "GET", "/metrics", RouteKind::kMetrics, true, Listener::kOps},
};

// What a target that is no route gets labelled.
struct UnroutedSpec {
  std::string_view label;
  RouteKind kind;
};
inline constexpr UnroutedSpec kUnroutedTable[] = {
    {"redirect", RouteKind::kRedirect},
    {"not-found", RouteKind::kNotFound},
    {"bad-target", RouteKind::kBadTarget},
};

// The files under /api/docs/.
inline constexpr std::string_view kDocsAssets[] = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js",
                                                   "users-api.js", "users-api.css"};

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
constexpr bool is_first_with_its_label(const RouteSpec& spec) {
  for (const auto& row : kRouteTable) {
    if (row.label == spec.label) return &row == &spec;
  }
  return false;
}
constexpr std::size_t kRouteLabelCount = [] {
  std::size_t count = std::size(kUnroutedTable);
  for (const auto& row : kRouteTable) {
    if (is_first_with_its_label(row)) ++count;
  }
  return count;
}();
inline constexpr std::array<std::string_view, kRouteLabelCount> kRouteLabels = [] {
  std::array<std::string_view, kRouteLabelCount> labels{};
  auto* next = labels.begin();
  for (const auto& row : kRouteTable) {
    if (is_first_with_its_label(row)) *next++ = row.label;
  }
  for (const auto& row : kUnroutedTable) *next++ = row.label;
  return labels;
}();

}  // namespace users::api
