// The operations endpoints: probes, metrics, the OpenAPI document and the
// Swagger UI that shows it. GET only (the route table says so), never a
// browsable page.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "api/outcome.hpp"
#include "api/route_table.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct OpsOptions {
  // False once shutdown has begun: /readyz then answers 503.
  std::function<bool()> accepting_traffic;
  // How long /readyz waits for the database.
  std::chrono::milliseconds readiness_timeout;
  // The body of /metrics.
  std::function<std::string()> metrics_text;
  // Why requests cannot be served yet besides the database (the JWT keys
  // not fetched yet); empty when nothing stands in the way.
  std::function<std::string()> not_ready;
};

// `kind` is an ops route; `asset` the file for kDocsAsset.
boost::asio::awaitable<Outcome> answer_ops(RouteKind kind, std::string_view asset, storage::UserStore& store,
                                           const OpsOptions& options);

}  // namespace users::api
