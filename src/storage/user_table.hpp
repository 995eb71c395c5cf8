// Whole-table work for the command-line tools (dumpdata, loaddata, copy,
// backup): one blocking connection, users read in keyset pages and written in
// batches with their ids, never the whole table in memory. The server never
// uses this; it goes through UserStore.
#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "domain/user.hpp"
#include "storage/user_store.hpp"

namespace users::storage {

// A batch that was not written (nothing of it is), and which of its users
// made it fail, when one did.
struct BatchFailure {
  enum class Cause {
    kDniTaken,  // another id holds the dni (stored, or earlier in the batch)
    kIdTaken,   // the id is stored and IdPolicy::kRefuseExisting
    kDatabase,  // anything else: the database refused or failed
  };
  Cause cause = Cause::kDatabase;
  std::optional<std::size_t> row;
  StoreError error;
};

enum class IdPolicy {
  kReplaceExisting,  // a user whose id is stored replaces it (Django's loaddata)
  kRefuseExisting,   // a stored id fails the batch (copy --append)
};

class UserTable {
 public:
  UserTable() = default;
  UserTable(const UserTable&) = delete;
  UserTable& operator=(const UserTable&) = delete;
  UserTable(UserTable&&) = delete;
  UserTable& operator=(UserTable&&) = delete;
  virtual ~UserTable() = default;

  // Until end_snapshot(), every read sees the table as it was at the first one
  // (a consistent dump while the server keeps writing).
  virtual StoreResult<void> begin_snapshot() = 0;
  virtual StoreResult<void> end_snapshot() = 0;

  // Up to `limit` users with id > `after`, ascending, in place of `page`'s content.
  virtual StoreResult<void> read_page(domain::UserId after, std::size_t limit, std::vector<domain::User>& page) = 0;
  virtual StoreResult<std::int64_t> count() = 0;

  // Writes `users` (distinct ids) with their ids, all or nothing.
  virtual boost::system::result<void, BatchFailure> write(std::span<const domain::User> users, IdPolicy policy) = 0;

  // Until rollback_trial(), writes are provisional (for --dry-run): later
  // batches see earlier ones, and nothing stays.
  virtual StoreResult<void> begin_trial() = 0;
  virtual StoreResult<void> rollback_trial() = 0;

  // Moves the id sequence past the largest stored id (never back), so that a
  // user created next never takes a loaded id, nor one freed by a delete.
  virtual StoreResult<void> advance_id_sequence() = 0;
};

}  // namespace users::storage
