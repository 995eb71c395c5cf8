// The PostgreSQL backend's UserTable: one connection, driven by its own
// io_context on the calling thread (the command-line tools have nothing else
// to do while PostgreSQL works).
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "storage/postgres/postgres_store.hpp"
#include "storage/user_table.hpp"

namespace users::storage::postgres {

// Connects; expects a migrated database to write into (migrate() first).
boost::system::result<std::unique_ptr<UserTable>, std::string> open_table(const PostgresOptions& options);

}  // namespace users::storage::postgres
