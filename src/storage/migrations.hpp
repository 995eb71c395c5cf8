// Versioned schema migrations. The SQL lives in files under sql/<dialect>/,
// one per version, and is compiled into the binary so that an image needs no
// files besides the executable.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace users::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// What a migration run did, whichever backend ran it.
struct MigrationReport {
  int version_before = 0;
  int version_after = 0;
  std::vector<std::string> applied;  // "0001_initial", ...
};

// Ascending by version.
std::span<const Migration> sqlite_migrations();

}  // namespace users::storage
