// DRF's three paginators over the user list, switched on by PAGINATION:
// LimitOffsetPagination (?limit=&offset=), PageNumberPagination (?page=,
// ?page_size=) and CursorPagination (?cursor=, and ?page_size=). Each reads
// its parameters as DRF does (a bad limit falls back to PAGE_SIZE, a bad
// offset to 0, sizes are capped at MAX_PAGE_SIZE), asks the store for one
// page, and answers DRF's shape with absolute next and previous links.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string_view>

#include "api/list_request.hpp"
#include "api/outcome.hpp"
#include "api/store_failure.hpp"
#include "storage/user_store.hpp"

namespace users::api {

enum class PaginationMode { kNone, kLimitOffset, kPageNumber, kCursor };

struct PaginationOptions {
  PaginationMode mode = PaginationMode::kNone;  // kNone: the bare array, streamed
  std::size_t page_size = 100;
  std::size_t max_page_size = 1000;
};

struct PageContext {
  storage::UserStore& store;
  const PaginationOptions& options;
  std::string_view origin;  // "scheme://host" of the links
  FailureSink failures;
};

// A UserPageBody, or the paginator's 404 ("Invalid page.", "Invalid
// cursor"), or a store failure. `options.mode` is not kNone. The request
// and the context must outlive the call.
boost::asio::awaitable<Outcome> paginate(const ListRequest& request, PageContext context);

}  // namespace users::api
