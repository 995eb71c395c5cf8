#include "storage/postgres/rows.hpp"

#include <fmt/format.h>
#include <string>

namespace users::storage::postgres {

StoreError nul_error() {
  return StoreError{StoreError::Kind::kInternal, "text with a NUL character cannot be stored"};
}

StoreResult<std::int64_t> int_at(const PGresult* result, int row, int column) {
  const auto text = text_at(result, row, column);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return StoreError{StoreError::Kind::kInternal, fmt::format("not an integer from PostgreSQL: \"{}\"", text)};
  }
  return value;
}

StoreResult<domain::User> user_at(const PGresult* result, int row) {
  auto id = int_at(result, row, 0);
  if (!id) return id.error();
  return domain::User{*id, std::string(text_at(result, row, 1)), std::string(text_at(result, row, 2))};
}

}  // namespace users::storage::postgres
