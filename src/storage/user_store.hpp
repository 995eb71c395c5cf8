// The storage boundary. Handlers see only this interface; each backend
// (storage/sqlite/, storage/postgres/) implements it. Every call is awaitable so
// that a backend can do its work off the IO threads, and every expected
// failure comes back as a value, never as an exception.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/entity_tag.hpp"
#include "domain/user.hpp"
#include "domain/validation.hpp"
#include "storage/list_query.hpp"

namespace users::storage {

struct StoreError {
  enum class Kind {
    kNotFound,            // no user with that id
    kPreconditionFailed,  // the user's current tag is not one the write accepts
    kDniTaken,            // the unique index refused the dni
    kBusy,                // back-pressure: too much queued work; try again shortly
    kUnavailable,         // the database cannot be reached or refused the work
    kInternal,            // a bug or corruption: nothing the client can fix
  };

  Kind kind = Kind::kInternal;
  std::string detail;  // for logs, never sent to clients
};

template <typename T>
using StoreResult = boost::system::result<T, StoreError>;

// Lets boost::system::result report a StoreError if `.value()` is misused.
[[noreturn]] void throw_exception_from_error(const StoreError& error, const boost::source_location& location);

class UserStore {
 public:
  UserStore() = default;
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;
  UserStore(UserStore&&) = delete;
  UserStore& operator=(UserStore&&) = delete;
  virtual ~UserStore() = default;

  virtual boost::asio::awaitable<StoreResult<std::optional<domain::User>>> find(domain::UserId id) = 0;

  // True when some user other than `except` has exactly this dni.
  virtual boost::asio::awaitable<StoreResult<bool>> dni_exists(std::string dni,
                                                               std::optional<domain::UserId> except) = 0;

  // The users of `window` among those `query` keeps, in its order. `page` is
  // reused storage (its capacity is kept) and comes back filled. `query` is
  // read before the first suspension and must outlive the call (it is a
  // reference into the caller's frame).
  virtual boost::asio::awaitable<StoreResult<std::vector<domain::User>>> list_page(const ListQuery& query,
                                                                                   ListWindow window,
                                                                                   std::vector<domain::User> page) = 0;

  // How many users `filter` keeps (a COUNT over the table: costly on a big one).
  virtual boost::asio::awaitable<StoreResult<std::int64_t>> count(const UserFilter& filter) = 0;

  virtual boost::asio::awaitable<StoreResult<domain::User>> create(std::string dni, std::string name) = 0;

  // Applies the fields that are set; kNotFound or kDniTaken otherwise, and
  // kPreconditionFailed (nothing changed) when the user as it is when the
  // write runs does not satisfy `precondition`: the check and the write are
  // one atomic step, so of two writers holding one tag exactly one wins.
  virtual boost::asio::awaitable<StoreResult<domain::User>> update(domain::UserId id, domain::UserChanges changes,
                                                                   domain::Precondition precondition) = 0;

  // The user as it was, for the audit trail; kNotFound when there was none,
  // kPreconditionFailed as for update.
  virtual boost::asio::awaitable<StoreResult<domain::User>> remove(domain::UserId id,
                                                                   domain::Precondition precondition) = 0;

  // A trivial round trip, for readiness.
  virtual boost::asio::awaitable<StoreResult<void>> ping() = 0;

  // A name for the data a read would see now: the key of a cache above the
  // store. It changes before any write the store acknowledges is seen, by
  // anyone, and once changed never comes back; so what was read after
  // taking it stays what a read would return for as long as it is the same.
  // Nullopt when the store cannot vouch for every writer (SQLite with its
  // read cache off, which also turns off the watch for other processes'
  // writes) or cannot tell now.
  virtual boost::asio::awaitable<std::optional<std::string>> data_version() { co_return std::nullopt; }
};

}  // namespace users::storage
