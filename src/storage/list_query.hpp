// What a list of users asks the store for: which users (a filter), in which
// order, and which slice of them (a window). The api layer builds these from
// DRF's query parameters; each backend turns them into SQL with placeholders
// only (storage/list_sql.hpp), so no client text ever becomes SQL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/user.hpp"

namespace users::storage {

enum class SortField : std::uint8_t { kId, kDni, kName };

struct SortKey {
  SortField field = SortField::kId;
  bool descending = false;

  friend bool operator==(const SortKey&, const SortKey&) = default;
};

struct UserFilter {
  std::optional<std::string> dni;         // exactly this dni (the unique index)
  std::vector<std::string> search_terms;  // each in the dni or the name, case-insensitive

  [[nodiscard]] bool empty() const { return !dni && search_terms.empty(); }
};

struct ListQuery {
  UserFilter filter;
  // The order asked for, always ending with the id (so that it is total and
  // a keyset position names exactly one place). Empty: by id, ascending.
  std::vector<SortKey> ordering;
};

// The slice: `limit` users, either those after `offset` others, or those
// strictly after (or, `backwards`, before) the row `after` in the query's
// order. A backwards window comes back in reverse order (nearest first).
struct ListWindow {
  std::size_t limit = 0;
  std::size_t offset = 0;
  std::optional<domain::User> after;
  bool backwards = false;
};

}  // namespace users::storage
