#include "app/token_command.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "app/app.hpp"
#include "auth/token_generator.hpp"

namespace users::app {

int token_new(const std::string& name, const std::string& scopes) {
  auto token = auth::generate_token(name, scopes);
  if (!token) {
    fmt::print(stderr, "users-api: token new: {}\n", token.error());
    return kExitBadConfig;
  }
  // The token goes to stdout alone on its first line, so that a script can
  // take it with `head -1`; the file holds only its digest.
  fmt::print("{}\n", token->token);
  fmt::print(stderr, "users-api: the token above is shown once; add this line to API_TOKENS_FILE:\n");
  fmt::print("{}\n", token->line);
  return kExitOk;
}

}  // namespace users::app
