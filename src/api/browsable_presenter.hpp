// Renders an Answer as the browsable HTML page a browser asked for: the
// JSON answer shown as it is, with the page of its view around it (the API
// root, the user list with its create form, a user with edit and delete).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string_view>

#include "api/outcome.hpp"
#include "api/store_failure.hpp"
#include "http/server.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct BrowsableContext {
  storage::UserStore& store;    // the list page shows the users
  std::size_t html_list_limit;  // ... this many at most
  std::string_view allow;       // the route's Allow header
  FailureSink failures;
};

// `answer.page` is not kNone. Takes its arguments by value: a coroutine.
boost::asio::awaitable<http::Response> present_html(Answer answer, BrowsableContext context);

}  // namespace users::api
