#include "auth/principal.hpp"

#include <optional>

namespace users::auth {
namespace {

std::optional<Scope> known_scope(std::string_view name) {
  if (name == "users:read") return kRead;
  if (name == "users:write") return kWrite;
  return std::nullopt;
}

}  // namespace

boost::system::result<Scopes, std::string> parse_token_file_scopes(std::string_view text) {
  Scopes scopes = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view name =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto scope = known_scope(name);
    if (!scope) {
      return name.empty() ? std::string{"an empty scope (scopes are users:read and users:write, comma-separated)"}
                          : "unknown scope '" + std::string{name} + "' (scopes are users:read and users:write)";
    }
    scopes |= *scope;
    if (comma == std::string_view::npos) return scopes;
    start = comma + 1;
  }
}

Scopes parse_jwt_scopes(std::string_view text) {
  Scopes scopes = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (const auto scope = known_scope(text.substr(start, end - start))) scopes |= *scope;
    start = end + 1;
  }
  return scopes;
}

}  // namespace users::auth
