// The Authorization header, split into its scheme and credential (RFC 9110
// section 11.6.2), as DRF's authentication classes read it.
#pragma once

#include <optional>
#include <string_view>

namespace users::auth {

enum class Scheme { kBearer, kToken };

struct Credentials {
  Scheme scheme;
  std::string_view credential;  // a view into the header
};

// "Bearer X" or "Token X" (the scheme case-insensitive, one space, exactly one
// value); anything else is nullopt. DRF treats an unknown scheme, or a header
// that is not two words, as if no credentials were sent, so does this.
std::optional<Credentials> parse_authorization(std::string_view header);

}  // namespace users::auth
