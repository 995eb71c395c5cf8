#include "auth/credentials.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace users::auth {

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
  if (boost::algorithm::iequals(scheme, "bearer")) return Credentials{Scheme::kBearer, credential};
  if (boost::algorithm::iequals(scheme, "token")) return Credentials{Scheme::kToken, credential};
  return std::nullopt;
}

}  // namespace users::auth
