#include "auth/jwt_authenticator.hpp"

#include "auth/credentials.hpp"
#include "auth/jwks_fetcher.hpp"

namespace users::auth {

JwtAuthenticator::JwtAuthenticator(JwtPolicy policy, std::unique_ptr<KeySource> keys, Events events, Clock clock)
    : policy_(std::move(policy)), keys_(std::move(keys)), events_(std::move(events)), clock_(std::move(clock)) {}

boost::system::result<std::shared_ptr<const Principal>, Failure> JwtAuthenticator::authenticate(
    std::string_view authorization_header) {
  const auto credentials = parse_authorization(authorization_header);
  if (!credentials || credentials->scheme != Scheme::kBearer) return Failure::kMissing;
  const auto key_set = keys_->current();
  if (!key_set) return Failure::kInvalid;  // /readyz says why meanwhile
  const auto now = clock_();
  const Sha256 digest = sha256(credentials->credential);
  if (auto principal = cache_.find(digest, key_set->generation, now)) return principal;

  signature_checks_.fetch_add(1, std::memory_order_relaxed);
  auto verified = verify_jwt(credentials->credential, *key_set->keys, policy_, now);
  if (!verified) {
    if (verified.error() == JwtError::kUnknownKid) keys_->unknown_kid();
    return Failure::kInvalid;
  }
  auto principal = std::make_shared<const Principal>(std::move(verified->principal));
  cache_.insert(digest, principal, key_set->generation, verified->valid_until, now);
  return principal;
}

boost::system::result<std::unique_ptr<Authenticator>, std::string> make_jwt_authenticator(const JwtSettings& settings,
                                                                                          Events events) {
  if (settings.issuer.empty()) return std::string{"AUTH_MODE=jwt needs JWT_ISSUER"};
  if (settings.audience.empty()) return std::string{"AUTH_MODE=jwt needs JWT_AUDIENCE"};
  if (settings.jwks_file.empty() == settings.jwks_url.empty()) {
    return std::string{"AUTH_MODE=jwt needs one of JWT_JWKS_FILE and JWT_JWKS_URL"};
  }
  if (settings.leeway.count() < 0) return std::string{"JWT_LEEWAY must not be negative"};
  std::unique_ptr<KeySource> keys;
  if (!settings.jwks_file.empty()) {
    auto file = FileKeySource::open(settings.jwks_file, events);
    if (!file) return "JWT_JWKS_FILE " + file.error();
    keys = std::move(*file);
  } else {
    if (settings.refresh.count() < 1) return std::string{"JWT_JWKS_REFRESH must be at least 1 second"};
    FetcherOptions options;
    options.url = settings.jwks_url;
    options.ca_file = settings.jwks_ca_file;
    options.refresh = settings.refresh;
    options.events = events;
    auto fetcher = JwksFetcher::start(std::move(options));
    if (!fetcher) return fetcher.error();
    keys = std::move(*fetcher);
  }
  return std::unique_ptr<Authenticator>(std::make_unique<JwtAuthenticator>(
      JwtPolicy{settings.issuer, settings.audience, settings.leeway}, std::move(keys), std::move(events)));
}

}  // namespace users::auth
