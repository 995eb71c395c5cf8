#include "auth/credentials.hpp"

#include <algorithm>

namespace users::auth {
namespace {

// ASCII only, as HTTP's scheme names are; boost::algorithm::iequals builds a
// std::locale per call (2,700 instructions per request, by callgrind).
bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  return std::ranges::equal(
      text, lower, [](char a, char b) { return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b; });
}

}  // namespace

std::optional<Credentials> parse_authorization(std::string_view header) {
  const std::size_t space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = header.substr(0, space);
  const std::string_view credential = header.substr(space + 1);
  // No second space, tab or other control: a credential is one token68
  // value, and what could be two values is none (DRF: "Invalid token header").
  for (const char c : credential) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  if (credential.empty()) return std::nullopt;
  if (equals_ignoring_case(scheme, "bearer")) return Credentials{Scheme::kBearer, credential};
  if (equals_ignoring_case(scheme, "token")) return Credentials{Scheme::kToken, credential};
  return std::nullopt;
}

}  // namespace users::auth
