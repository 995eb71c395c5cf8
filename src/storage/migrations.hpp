// Versioned schema migrations. The SQL lives in files under sql/<dialect>/,
// one per version, and is compiled into the binary so that an image needs no
// files besides the executable.
#pragma once

#include <span>
#include <string_view>

namespace users::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Ascending by version.
std::span<const Migration> sqlite_migrations();

}  // namespace users::storage
