// The API: turns an HTTP request into a response by the rules of the
// reference's DRF ModelViewSet. Knows HTTP and the domain; storage only
// through UserStore. users_api.cpp routes (route_table.hpp) and answers 405;
// user_handlers.cpp and ops_endpoints.cpp decide what each route means;
// json_presenter.cpp and browsable_presenter.cpp render it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "api/access.hpp"
#include "api/list_cache.hpp"
#include "api/list_request.hpp"
#include "api/list_streams.hpp"
#include "api/pagination.hpp"
#include "api/route_table.hpp"
#include "domain/validation.hpp"
#include "http/server.hpp"
#include "observability/metrics.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct ApiOptions {
  // Host for absolute URLs when a request has no Host header.
  std::string default_host = "localhost";
  // Users per chunk of a streamed list; a list shorter than this is sent whole.
  std::size_t list_page_size = 1000;
  // Users shown on the browsable list page at most.
  std::size_t html_list_limit = 1000;
  // False once shutdown has begun: /readyz then answers 503.
  std::function<bool()> accepting_traffic = [] { return true; };
  // How long /readyz waits for the database.
  std::chrono::milliseconds readiness_timeout{1000};
  // The body of /metrics.
  std::function<std::string()> metrics_text = [] { return std::string(); };
  // Why /readyz must answer 503 besides the database; empty: nothing.
  std::function<std::string()> not_ready;
  // Where database errors are counted; may be null.
  observability::Metrics* metrics = nullptr;
  // Credentials, scopes, throttles, hosts and origins; all off by default.
  AccessOptions access;
  // Lists longer than one chunk streamed at once; more get 503. 0: no cap.
  std::size_t max_list_streams = 0;
  // PAGINATION, PAGE_SIZE, MAX_PAGE_SIZE; off by default (the bare array).
  PaginationOptions pagination;
  // LIST_FILTERS; none by default.
  ListFilters list_filters;
  // Rules added to the reference's field validation (DNI_PATTERN).
  domain::ValidationRules validation;
  // ETAGS=on: ETag, If-None-Match (304) and If-Match (412) on one user.
  bool etags = false;
};

class UsersApi {
 public:
  UsersApi(storage::UserStore& store, ApiOptions options);

  // Never throws: every failure becomes a response. `listener` is the port
  // the request came in on: a route it does not serve is not found there.
  boost::asio::awaitable<http::Response> handle(http::Request request, http::RequestInfo info,
                                                Listener listener = Listener::kAll);

 private:
  storage::UserStore& store_;
  ApiOptions options_;
  AccessControl access_;
  ListStreams list_streams_;
  ListCache list_cache_;
};

}  // namespace users::api
