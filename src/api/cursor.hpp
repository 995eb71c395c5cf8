// The opaque ?cursor= of CursorPagination: where a page starts (the row
// before it, or after it when the page is walked backwards). users-api's
// cursors are keysets over the whole ordering (its fields, then the id),
// so a page deep in a big table costs what the first one costs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/user.hpp"

namespace users::api {

struct Cursor {
  domain::User position;  // the row the page starts past
  bool reverse = false;   // the page holds the rows before `position`
};

// base64url of a small query string ("r=1&i=..&d=..&n=..").
std::string encode_cursor(const Cursor& cursor);

// nullopt for anything encode_cursor could not have written.
std::optional<Cursor> decode_cursor(std::string_view text);

}  // namespace users::api
