// API_TOKENS_FILE: one client a line, `NAME SCOPES SHA256`, where SCOPES is
// comma-separated (users:read, users:write) and SHA256 the lowercase hex
// SHA-256 of the token. `#` starts a comment; blank lines are skipped. The
// file holds no token, only digests, so it can be read by whoever deploys.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/openssl.hpp"
#include "auth/principal.hpp"

namespace users::auth {

struct TokenEntry {
  Sha256 digest{};
  std::shared_ptr<const Principal> principal;
};

// The error names the line: "tokens.txt:3: expected NAME SCOPES SHA256".
// `source` is the file name used in messages.
boost::system::result<std::vector<TokenEntry>, std::string> parse_token_file(std::string_view text,
                                                                             std::string_view source);

// Reads and parses `path`; the error names the file (and the line).
boost::system::result<std::vector<TokenEntry>, std::string> read_token_file(const std::string& path);

}  // namespace users::auth
