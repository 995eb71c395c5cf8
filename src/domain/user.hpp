// The User resource and the rules that define a valid one. No I/O here:
// handlers translate HTTP into these types, storage persists them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace users::domain {

using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string dni;
  std::string name;

  friend bool operator==(const User&, const User&) = default;
};

// Limits from the reference's Django model, counted in Unicode characters.
inline constexpr std::size_t kDniMaxChars = 13;
inline constexpr std::size_t kNameMaxChars = 30;

}  // namespace users::domain
