// `users-api token new NAME SCOPES`: prints a fresh API token and the line
// that lets it in (for API_TOKENS_FILE).
#pragma once

#include <string>

namespace users::app {

// 0 with the token on stdout; kExitBadConfig with a message for a bad NAME or SCOPES.
int token_new(const std::string& name, const std::string& scopes);

}  // namespace users::app
