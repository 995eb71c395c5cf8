// Migrations over one connection, private to the PostgreSQL backend.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <string>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/postgres_store.hpp"

namespace users::storage::postgres {

// Connects `connection` and applies pending migrations in one transaction
// under the advisory lock; a one-line message (no password) on failure.
boost::asio::awaitable<boost::system::result<MigrationReport, std::string>> apply_migrations(
    AsyncConnection& connection);

}  // namespace users::storage::postgres
