// The reference's DRF ModelViewSet for users, and its DefaultRouter root:
// each handler returns what it means (an Answer), never bytes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/list_cache.hpp"
#include "api/outcome.hpp"
#include "api/pagination.hpp"
#include "api/store_failure.hpp"
#include "domain/validation.hpp"
#include "http/server.hpp"
#include "storage/user_store.hpp"

namespace users::api {

// Handlers for one request. They take the request by reference from a
// caller that keeps it alive across every co_await, and never throw on
// their own (a store's exception still reaches UsersApi::handle).
class UserHandlers {
 public:
  // `etags`: ETAGS=on (conditional requests on one user, conditional.hpp).
  UserHandlers(storage::UserStore& store, const http::Request& request, FailureSink failures,
               const domain::ValidationRules& rules, bool etags)
      : store_(store), request_(request), failures_(failures), rules_(rules), etags_(etags) {}

  // GET /api/: the links, under the request's origin (api/request_origin.hpp;
  // nullopt: an invalid host).
  [[nodiscard]] static Answer root(const std::optional<std::string>& origin);
  // OPTIONS of the three views.
  [[nodiscard]] static Answer root_metadata();
  [[nodiscard]] static Answer list_metadata();
  boost::asio::awaitable<Answer> item_metadata(const std::string& id_text);

  // GET /api/users/, filtered and ordered as its query asks (the filters
  // that are on): with pagination
  // off, the first `first_chunk` users (the presenter streams the rest); with
  // it on, one page, its links under `origin`.
  // `cache`: where the JSON of a whole unfiltered list may be found (null for
  // an answer that is not JSON).
  boost::asio::awaitable<Answer> list(std::size_t first_chunk, const ListFilters& filters,
                                      const PaginationOptions& pagination, const std::optional<std::string>& origin,
                                      const ListCache* cache);
  // POST /api/users/.
  boost::asio::awaitable<Answer> create();
  // GET, PUT, PATCH, DELETE /api/users/{id}/.
  boost::asio::awaitable<Answer> item(const std::string& id_text);

 private:
  boost::asio::awaitable<Outcome> create_outcome(const domain::UserInput& input);
  boost::asio::awaitable<Outcome> update(domain::UserId id, domain::WriteMode mode, domain::Precondition precondition);
  // What the request's If-Match demands of the user (any user when ETAGS is
  // off or the field is absent).
  [[nodiscard]] domain::Precondition precondition() const;
  boost::asio::awaitable<storage::StoreResult<void>> check_dni_taken(const std::string& dni,
                                                                     std::optional<domain::UserId> except,
                                                                     domain::FieldErrors& errors);
  [[nodiscard]] Problem failure(const storage::StoreError& error) const { return store_failure(error, failures_); }

  storage::UserStore& store_;
  const http::Request& request_;
  FailureSink failures_;
  const domain::ValidationRules& rules_;
  bool etags_;
};

}  // namespace users::api
