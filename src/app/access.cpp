#include "app/access.hpp"

#include "observability/log.hpp"

namespace users::app {
namespace {

namespace log = observability;

auth::Events auth_events() {
  auth::Events events;
  events.notify = [](auth::Events::Severity severity, std::string_view what, std::string_view detail) {
    using Severity = auth::Events::Severity;
    const auto level = severity == Severity::kInfo      ? log::Level::kInfo
                       : severity == Severity::kWarning ? log::Level::kWarning
                                                        : log::Level::kError;
    log::log(level, what, {{"detail", detail}});
  };
  return events;
}

// AUTH_MODE=token or jwt: the authenticator, or why it cannot be built (a
// malformed tokens file, a JWKS file that does not parse). Null for none.
boost::system::result<std::unique_ptr<auth::Authenticator>, config::ConfigError> make_authenticator(
    const config::Access& access) {
  switch (access.auth_mode) {
    case config::AuthMode::kToken: {
      auto made = auth::make_token_authenticator(auth::TokenSettings{access.api_tokens_file}, auth_events());
      if (!made) return config::ConfigError{"API_TOKENS_FILE", made.error()};
      return std::move(*made);
    }
    case config::AuthMode::kJwt: {
      const auth::JwtSettings settings{access.jwt_jwks_file, access.jwt_jwks_url, access.jwt_jwks_ca_file,
                                       access.jwt_issuer,    access.jwt_audience, access.jwt_jwks_refresh,
                                       access.jwt_leeway};
      auto made = auth::make_jwt_authenticator(settings, auth_events());
      if (!made) {
        return config::ConfigError{access.jwt_jwks_url.empty() ? "JWT_JWKS_FILE" : "JWT_JWKS_URL", made.error()};
      }
      return std::move(*made);
    }
    case config::AuthMode::kNone: break;
  }
  return std::unique_ptr<auth::Authenticator>();
}

boost::system::result<std::shared_ptr<api::Throttle>, config::ConfigError> make_throttle(std::string_view variable,
                                                                                         const std::string& text) {
  if (text.empty()) return std::shared_ptr<api::Throttle>();
  auto rate = api::parse_rate(text);
  if (!rate) return config::ConfigError{std::string(variable), rate.error()};
  return std::make_shared<api::Throttle>(*rate);
}

}  // namespace

boost::system::result<AccessParts, config::ConfigError> make_access(const config::Access& access) {
  AccessParts parts;
  auto& options = parts.options;
  if (!access.trusted_proxies.empty()) {
    auto proxies = api::TrustedProxies::parse(access.trusted_proxies);
    if (!proxies) return config::ConfigError{"TRUSTED_PROXIES", proxies.error()};
    options.trusted_proxies = std::move(*proxies);
  }
  if (access.allowed_hosts != "*") {
    auto hosts = api::AllowedHosts::parse(access.allowed_hosts);
    if (!hosts) return config::ConfigError{"ALLOWED_HOSTS", hosts.error()};
    options.allowed_hosts = std::move(*hosts);
  }
  const bool authentication = access.auth_mode != config::AuthMode::kNone;
  auto origins = api::cors::AllowedOrigins::parse(access.cors_allowed_origins, authentication);
  if (!origins) return config::ConfigError{"CORS_ALLOWED_ORIGINS", origins.error()};
  options.origins = std::move(*origins);
  auto principal_throttle = make_throttle("THROTTLE_RATE", access.throttle_rate);
  if (!principal_throttle) return principal_throttle.error();
  options.principal_throttle = std::move(*principal_throttle);
  auto anonymous_throttle = make_throttle("THROTTLE_ANON_RATE", access.throttle_anon_rate);
  if (!anonymous_throttle) return anonymous_throttle.error();
  options.anonymous_throttle = std::move(*anonymous_throttle);
  // Last: a JWKS URL starts its fetcher thread, not worth starting for a typo above.
  auto authenticator = make_authenticator(access);
  if (!authenticator) return authenticator.error();
  parts.authenticator = std::move(*authenticator);
  options.authenticator = parts.authenticator.get();
  options.simplejwt_answers = access.auth_mode == config::AuthMode::kJwt;
  return parts;
}

}  // namespace users::app
