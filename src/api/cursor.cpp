#include "api/cursor.hpp"

#include <charconv>

#include "api/query_params.hpp"
#include "auth/openssl.hpp"

namespace users::api {

std::string encode_cursor(const Cursor& cursor) {
  // Read back by the query reader that reads a request's parameters.
  std::string query = cursor.reverse ? "r=1" : "r=0";
  query += "&i=" + std::to_string(cursor.position.id);
  query += "&d=" + quote_plus(cursor.position.dni);
  query += "&n=" + quote_plus(cursor.position.name);
  return auth::base64url_encode(query);
}

std::optional<Cursor> decode_cursor(std::string_view text) {
  const auto decoded = auth::base64url_decode(text);
  if (!decoded) return std::nullopt;
  const auto params = QueryParams::of_target("/?" + *decoded);
  const auto reverse = params.last("r");
  const auto id = params.last("i");
  const auto dni = params.last("d");
  const auto name = params.last("n");
  if (!reverse || (*reverse != "0" && *reverse != "1") || !id || !dni || !name) return std::nullopt;
  if (dni->find('\0') != std::string_view::npos || name->find('\0') != std::string_view::npos) return std::nullopt;
  Cursor cursor;
  cursor.reverse = *reverse == "1";
  const auto [end, error] = std::from_chars(id->data(), id->data() + id->size(), cursor.position.id);
  if (error != std::errc{} || end != id->data() + id->size()) return std::nullopt;
  cursor.position.dni = std::string(*dni);
  cursor.position.name = std::string(*name);
  return cursor;
}

}  // namespace users::api
