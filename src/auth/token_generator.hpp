// `users-api token new NAME SCOPES`: a fresh API token and its tokens-file line.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace users::auth {

struct NewToken {
  std::string token;  // 32 random bytes, base64url: shown once, never stored
  std::string line;   // NAME SCOPES SHA256, for API_TOKENS_FILE
};

// The error says what is wrong with NAME or SCOPES (as the file parser would).
boost::system::result<NewToken, std::string> generate_token(std::string_view name, std::string_view scopes);

}  // namespace users::auth
