// A user's entity tag (RFC 9110 8.8.3) and what a write may demand of it.
// The tag is derived from what the JSON representation shows (id, dni, name),
// so no stored state is needed: it changes whenever the representation
// changes, and a user that returns to the same content gets the same tag
// again, which a strong validator may do (RFC 9110 8.8.1: it identifies the
// content, not a point in time).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "domain/user.hpp"

namespace users::domain {

// 32 lowercase hex digits, without the quotes: the first 128 bits of SHA-256
// over the id (8 bytes, big-endian), then the dni and then the name, each
// after its length in bytes (4 bytes, big-endian), so that no two users frame
// to the same bytes. storage/postgres/statements.hpp computes the same value
// in SQL; the storage contract tests check that the two agree.
std::string entity_tag(const User& user);

// What a write demands of the user it changes (If-Match): any existing user
// (no If-Match, or `*`), or one whose current tag is among `tags` (the
// opaque tags, without quotes). The store checks it against the current row
// in the same transaction as the write.
class Precondition {
 public:
  static Precondition any_user() { return {}; }
  static Precondition one_of(std::vector<std::string> tags) {
    Precondition precondition;
    precondition.any_ = false;
    precondition.tags_ = std::move(tags);
    return precondition;
  }

  [[nodiscard]] bool is_any() const { return any_; }
  [[nodiscard]] const std::vector<std::string>& tags() const { return tags_; }
  [[nodiscard]] bool admits(const User& current) const;

 private:
  Precondition() = default;
  bool any_ = true;
  std::vector<std::string> tags_;
};

}  // namespace users::domain
