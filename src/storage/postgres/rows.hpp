// Decoding what libpq returns, and encoding what it is given: libpq speaks
// text, and a NUL would silently cut a C string short.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "storage/user_store.hpp"

namespace users::storage::postgres {

// PostgreSQL text cannot hold NUL; validation refuses it long before, but a
// NUL must never silently cut a value short (libpq takes C strings).
[[nodiscard]] inline bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

StoreError nul_error();

[[nodiscard]] inline std::string_view text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column), static_cast<std::size_t>(PQgetlength(result, row, column))};
}

StoreResult<std::int64_t> int_at(const PGresult* result, int row, int column);

// Columns id, dni, name.
StoreResult<domain::User> user_at(const PGresult* result, int row);

// Decimal text for a bigint parameter, living as long as the call's frame.
struct IntText {
  explicit IntText(std::int64_t value) {
    const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size() - 1, value);
    *end = '\0';
  }
  [[nodiscard]] const char* c_str() const { return digits.data(); }
  std::array<char, 24> digits{};
};

}  // namespace users::storage::postgres
