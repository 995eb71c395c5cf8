// Who a request speaks for, once its credentials are verified, and what it
// may do. Knows nothing of HTTP: api/ maps methods to scopes.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace users::auth {

enum Scope : unsigned { kRead = 1U, kWrite = 2U };  // users:read, users:write
using Scopes = unsigned;

struct Principal {
  std::string name;  // the token file's NAME, or the JWT's sub
  Scopes scopes = 0;
};

// "users:read,users:write" (the token file: comma-separated, every scope must
// be known, at least one) -> bits; the error names the offending scope.
boost::system::result<Scopes, std::string> parse_token_file_scopes(std::string_view text);

// "users:read users:write" (a JWT's scope claim, or one entry of scp): scopes
// this service does not know are left out, since an identity provider issues
// tokens for many services.
Scopes parse_jwt_scopes(std::string_view text);

}  // namespace users::auth
