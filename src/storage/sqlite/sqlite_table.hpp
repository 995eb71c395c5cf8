// The SQLite backend's UserTable, and its online backup.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "storage/sqlite/sqlite_store.hpp"
#include "storage/user_table.hpp"

namespace users::storage::sqlite {

enum class TableAccess { kRead, kWrite };

// kWrite expects a migrated database (migrate() first); kRead only needs an
// api_user table, so that a Django reference's file is read as it is.
boost::system::result<std::unique_ptr<UserTable>, std::string> open_table(const SqliteOptions& options,
                                                                          TableAccess access);

// Copies the live database to `destination` with SQLite's online backup API:
// one read snapshot, so the copy is consistent while the server writes, and
// holds every transaction committed before it began. The copy is written
// beside `destination`, checked with PRAGMA integrity_check, then renamed
// over it, so `destination` is never a torn file.
boost::system::result<void, std::string> backup(const SqliteOptions& options, const std::string& destination);

}  // namespace users::storage::sqlite
