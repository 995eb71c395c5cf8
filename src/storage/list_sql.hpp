// The SQL of a list query, for either backend: every value a client chose is
// a placeholder, and the only text taken from the query is a column name
// from a fixed table. Pure: the stores run what it builds.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "storage/list_query.hpp"

namespace users::storage {

enum class Dialect { kSqlite, kPostgres };

using SqlValue = std::variant<std::int64_t, std::string>;

struct Sql {
  std::string text;
  std::vector<SqlValue> params;  // for placeholders 1..n, in order
};

// The query's ordering as it is run: never empty, always ending with the id.
std::vector<SortKey> effective_ordering(const std::vector<SortKey>& ordering);

// SELECT id, dni, name ... for the window (LIMIT, and OFFSET or a keyset
// condition).
Sql list_sql(const ListQuery& query, const ListWindow& window, Dialect dialect);

// SELECT count(*) of the users the filter keeps.
Sql count_sql(const UserFilter& filter, Dialect dialect);

}  // namespace users::storage
