// What the SQLite store and its migrations share: how a connection is set up,
// how a failure is worded, and the schema check made before serving.
// (migrate() itself is declared in sqlite_store.hpp, for the app.)
#pragma once

#include <boost/system/result.hpp>
#include <string>

#include "storage/sqlite/database.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace users::storage::sqlite {

// "cannot use SQLite database \"PATH\": WHY", for the operator.
std::string describe_failure(const SqliteOptions& options, const SqliteError& error);

// Settings every connection of the store gets (the lock wait).
void configure_connection(Database& db, const SqliteOptions& options);

// Fails, saying what to do, unless the schema is exactly this binary's
// latest version.
boost::system::result<void, std::string> require_current_schema(Database& db);

}  // namespace users::storage::sqlite
