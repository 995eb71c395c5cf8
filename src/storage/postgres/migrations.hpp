// The PostgreSQL dialect of the versioned migrations (sql/postgres/), compiled
// into the binary like the SQLite ones.
#pragma once

#include <span>

#include "storage/migrations.hpp"

namespace users::storage {

// Ascending by version.
std::span<const Migration> postgres_migrations();

}  // namespace users::storage
