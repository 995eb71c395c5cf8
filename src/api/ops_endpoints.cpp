#include "api/ops_endpoints.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/assets.hpp"
#include "api/html.hpp"

namespace users::api {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kJavaScript = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";

asio::awaitable<Outcome> readiness(storage::UserStore& store, const OpsOptions& options) {
  using namespace asio::experimental::awaitable_operators;
  if (!options.accepting_traffic()) co_return ProbeStatus{Status::service_unavailable, "unavailable", "shutting down"};
  const std::string blocker = options.not_ready ? options.not_ready() : std::string();
  if (!blocker.empty()) co_return ProbeStatus{Status::service_unavailable, "unavailable", blocker};
  asio::steady_timer deadline(co_await asio::this_coro::executor, options.readiness_timeout);
  auto race = store.ping() || deadline.async_wait(asio::use_awaitable);
  auto outcome = co_await std::move(race);
  if (outcome.index() == 1) co_return ProbeStatus{Status::service_unavailable, "unavailable", "database timed out"};
  const auto& pinged = std::get<0>(outcome);
  if (!pinged) {
    co_return ProbeStatus{Status::service_unavailable, "unavailable", "database unavailable: " + pinged.error().detail};
  }
  co_return ProbeStatus{Status::ok, "ok", {}};
}

Content docs_asset(std::string_view name) {
  if (name == "swagger-ui-bundle.js") return {kJavaScript, std::string(assets::swagger_ui_js())};
  if (name == "swagger-ui.css") return {kCss, std::string(assets::swagger_ui_css())};
  if (name == "swagger-initializer.js") return {kJavaScript, std::string(html::swagger_initializer_script())};
  if (name == "users-api.css") return {kCss, std::string(html::browsable_stylesheet())};
  return {kJavaScript, std::string(html::browsable_script())};
}

}  // namespace

asio::awaitable<Outcome> answer_ops(RouteKind kind, std::string_view asset, storage::UserStore& store,
                                    const OpsOptions& options) {
  switch (kind) {
    case RouteKind::kReady: {
      auto probe = readiness(store, options);
      co_return co_await std::move(probe);
    }
    case RouteKind::kMetrics: co_return Content{"text/plain; version=0.0.4; charset=utf-8", options.metrics_text()};
    case RouteKind::kSchema: co_return Content{"application/vnd.oai.openapi+json", std::string(assets::openapi_json())};
    case RouteKind::kDocs: co_return Content{"text/html; charset=utf-8", html::docs_page()};
    case RouteKind::kDocsAsset: co_return docs_asset(asset);
    default: break;
  }
  co_return ProbeStatus{Status::ok, "ok", {}};  // kHealth: the process answers
}

}  // namespace users::api
