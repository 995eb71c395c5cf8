// Credentials -> Principal, in one of two modes: API tokens from a file
// (AUTH_MODE=token) or JWTs signed by an identity provider (AUTH_MODE=jwt).
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/principal.hpp"

namespace users::auth {

// 401 "Authentication credentials were not provided." vs 401 "Invalid token.".
enum class Failure { kMissing, kInvalid };

// What the layer tells the operator (a reload that failed, a JWKS fetch that
// failed or recovered). Never holds a credential.
struct Events {
  enum class Severity { kInfo, kWarning, kError };
  // Called from any thread, the JWKS fetcher's included.
  std::function<void(Severity, std::string_view what, std::string_view detail)> notify = [](Severity, std::string_view,
                                                                                            std::string_view) {};
};

// Thread-safe; never blocks on I/O; never logs a credential.
class Authenticator {
 public:
  Authenticator() = default;
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;
  Authenticator(Authenticator&&) = delete;
  Authenticator& operator=(Authenticator&&) = delete;
  virtual ~Authenticator() = default;

  // The Authorization header's value as received (empty when absent).
  virtual boost::system::result<std::shared_ptr<const Principal>, Failure> authenticate(
      std::string_view authorization_header) = 0;
  // WWW-Authenticate for a 401: "Token" or "Bearer realm=\"api\"".
  [[nodiscard]] virtual std::string_view challenge() const = 0;
  // Why requests cannot be authenticated yet ("JWKS not loaded yet: ..."), for /readyz.
  [[nodiscard]] virtual std::optional<std::string> not_ready() const { return std::nullopt; }
  // SIGHUP: re-read the tokens file, or re-read / refetch the JWKS.
  virtual void reload() {}
};

struct TokenSettings {
  std::string tokens_file;  // API_TOKENS_FILE
};

struct JwtSettings {
  std::string jwks_file;              // JWT_JWKS_FILE
  std::string jwks_url;               // JWT_JWKS_URL (https only); set one of the two
  std::string jwks_ca_file;           // JWT_JWKS_CA_FILE; empty: the system's CA store
  std::string issuer;                 // JWT_ISSUER (required)
  std::string audience;               // JWT_AUDIENCE (required)
  std::chrono::seconds refresh{300};  // JWT_JWKS_REFRESH
  std::chrono::seconds leeway{30};    // JWT_LEEWAY
};

// Each returns a message fit for exit 2 when the settings cannot be used
// (a malformed tokens file names its line; a JWKS file that does not parse).
boost::system::result<std::unique_ptr<Authenticator>, std::string> make_token_authenticator(
    const TokenSettings& settings, Events events);
boost::system::result<std::unique_ptr<Authenticator>, std::string> make_jwt_authenticator(const JwtSettings& settings,
                                                                                          Events events);

}  // namespace users::auth
