#include "api/pagination.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "api/cursor.hpp"
#include "domain/text.hpp"

// Calls that pass arguments by value to a coroutine build the awaitable in
// one statement and co_await it in the next (GCC 12: see user_handlers.cpp).
namespace users::api {
namespace asio = boost::asio;
using domain::User;
using storage::ListWindow;

namespace {

constexpr std::string_view kInvalidPage = "Invalid page.";
constexpr std::string_view kInvalidCursor = "Invalid cursor";

// DRF's _positive_int: int(text), refused when negative (or zero when
// `strict`), capped at `cutoff`.
std::optional<std::size_t> positive_int(std::optional<std::string_view> text, bool strict, std::size_t cutoff) {
  if (!text) return std::nullopt;
  const auto value = domain::text::parse_python_int(*text);
  if (!value || *value < 0 || (*value == 0 && strict)) return std::nullopt;
  return std::min(static_cast<std::size_t>(*value), cutoff);
}

Problem not_found(std::string_view message) {
  return Problem{Status::not_found, std::string(message)};
}

std::string number_text(std::size_t number) {
  return std::to_string(number);
}

// ?page_size= where DRF's page_size_query_param is set, else PAGE_SIZE.
std::size_t page_size_of(const ListRequest& request, const PaginationOptions& options) {
  return positive_int(request.params.last("page_size"), true, options.max_page_size).value_or(options.page_size);
}

asio::awaitable<Outcome> limit_offset(const ListRequest& request, PageContext context) {
  const auto& params = request.params;
  const std::size_t limit =
      positive_int(params.last("limit"), true, context.options.max_page_size).value_or(context.options.page_size);
  const std::size_t offset = positive_int(params.last("offset"), false, SIZE_MAX).value_or(0);
  auto counting = context.store.count(request.query.filter);
  auto count = co_await std::move(counting);
  if (!count) co_return store_failure(count.error(), context.failures);
  const auto total = static_cast<std::size_t>(*count);

  UserPageBody page;
  page.count = *count;
  if (total != 0 && offset <= total) {
    auto fetch = context.store.list_page(request.query, ListWindow{limit, offset, std::nullopt, false}, {});
    auto users = co_await std::move(fetch);
    if (!users) co_return store_failure(users.error(), context.failures);
    page.results = std::move(*users);
  }
  // get_next_link and get_previous_link: the limit always written.
  const auto link = [&](std::optional<std::size_t> new_offset) {
    return request.params.link(
        context.origin, {{"limit", number_text(limit)},
                         {"offset", new_offset ? std::optional<std::string>(number_text(*new_offset)) : std::nullopt}});
  };
  if (offset + limit < total) page.next = link(offset + limit);
  if (offset > 0) page.previous = link(offset <= limit ? std::nullopt : std::optional<std::size_t>(offset - limit));
  co_return page;
}

asio::awaitable<Outcome> page_number(const ListRequest& request, PageContext context) {
  const std::size_t size = page_size_of(request, context.options);
  auto counting = context.store.count(request.query.filter);
  auto count = co_await std::move(counting);
  if (!count) co_return store_failure(count.error(), context.failures);
  const auto total = static_cast<std::size_t>(*count);
  // Django's Paginator: an empty first page is allowed; "last" is the last.
  const std::size_t pages = total == 0 ? 1 : (total + size - 1) / size;
  std::size_t number = 1;
  if (const auto asked = request.params.last("page"); asked && !asked->empty()) {
    if (*asked == "last") {
      number = pages;
    } else {
      const auto value = domain::text::parse_python_int(*asked);
      if (!value || *value < 1 || static_cast<std::size_t>(*value) > pages) co_return not_found(kInvalidPage);
      number = static_cast<std::size_t>(*value);
    }
  }

  UserPageBody page;
  page.count = *count;
  if (total != 0) {
    auto fetch = context.store.list_page(request.query, ListWindow{size, (number - 1) * size, std::nullopt, false}, {});
    auto users = co_await std::move(fetch);
    if (!users) co_return store_failure(users.error(), context.failures);
    page.results = std::move(*users);
  }
  if (number < pages) page.next = request.params.link(context.origin, {{"page", number_text(number + 1)}});
  if (number > 1) {
    page.previous = request.params.link(
        context.origin, {{"page", number == 2 ? std::nullopt : std::optional<std::string>(number_text(number - 1))}});
  }
  co_return page;
}

asio::awaitable<Outcome> cursor_page(const ListRequest& request, PageContext context) {
  const std::size_t size = page_size_of(request, context.options);
  std::optional<Cursor> cursor;
  if (const auto text = request.params.last("cursor")) {
    cursor = decode_cursor(*text);
    if (!cursor) co_return not_found(kInvalidCursor);
  }
  ListWindow window{size + 1, 0, std::nullopt, false};
  if (cursor) {
    window.after = cursor->position;
    window.backwards = cursor->reverse;
  }
  auto fetch = context.store.list_page(request.query, window, {});
  auto users = co_await std::move(fetch);
  if (!users) co_return store_failure(users.error(), context.failures);
  std::vector<User> rows = std::move(*users);
  // One row more than a page says whether there is more in that direction.
  const bool more = rows.size() > size;
  if (more) rows.resize(size);
  const bool backwards = cursor && cursor->reverse;
  if (backwards) std::reverse(rows.begin(), rows.end());
  const bool has_next = backwards || more;
  const bool has_previous = backwards ? more : cursor.has_value();

  const auto link = [&](const User& position, bool reverse) {
    return request.params.link(context.origin, {{"cursor", encode_cursor(Cursor{position, reverse})}});
  };
  UserPageBody page;
  // A page that came back empty (its rows deleted meanwhile) links from
  // where it was asked for.
  if (has_next) page.next = link(rows.empty() ? cursor->position : rows.back(), false);
  if (has_previous) page.previous = link(rows.empty() ? cursor->position : rows.front(), true);
  page.results = std::move(rows);
  co_return page;
}

}  // namespace

asio::awaitable<Outcome> paginate(const ListRequest& request, PageContext context) {
  switch (context.options.mode) {
    case PaginationMode::kLimitOffset: {
      auto paging = limit_offset(request, context);
      co_return co_await std::move(paging);
    }
    case PaginationMode::kPageNumber: {
      auto paging = page_number(request, context);
      co_return co_await std::move(paging);
    }
    case PaginationMode::kCursor: {
      auto paging = cursor_page(request, context);
      co_return co_await std::move(paging);
    }
    case PaginationMode::kNone: break;
  }
  co_return Problem{Status::internal_server_error, "A server error occurred."};
}

}  // namespace users::api
