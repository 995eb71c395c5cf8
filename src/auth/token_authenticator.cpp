#include "auth/token_authenticator.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "auth/credentials.hpp"

namespace users::auth {

TokenAuthenticator::TokenAuthenticator(std::string path, std::vector<TokenEntry> entries, Events events)
    : path_(std::move(path)),
      events_(std::move(events)),
      entries_(std::make_shared<const Entries>(std::move(entries))) {}

boost::system::result<std::shared_ptr<const Principal>, Failure> TokenAuthenticator::authenticate(
    std::string_view authorization_header) {
  const auto credentials = parse_authorization(authorization_header);
  if (!credentials) return Failure::kMissing;
  // Only the digest is compared, so the time taken says nothing about the
  // token's bytes; every entry is compared, so nothing about which matched.
  const Sha256 digest = sha256(credentials->credential);
  const auto entries = entries_.load(std::memory_order_acquire);
  std::shared_ptr<const Principal> match;
  for (const auto& entry : *entries) {
    const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (equal && !match) match = entry.principal;
  }
  if (!match) return Failure::kInvalid;
  return match;
}

void TokenAuthenticator::reload() {
  auto entries = read_token_file(path_);
  if (!entries) {
    events_.notify(Events::Severity::kError, "tokens file not reloaded, the previous tokens stay in use",
                   entries.error());
    return;
  }
  const std::size_t count = entries->size();
  entries_.store(std::make_shared<const Entries>(std::move(*entries)), std::memory_order_release);
  events_.notify(Events::Severity::kInfo, "tokens file reloaded", fmt::format("{}: {} tokens", path_, count));
}

boost::system::result<std::unique_ptr<Authenticator>, std::string> make_token_authenticator(
    const TokenSettings& settings, Events events) {
  if (settings.tokens_file.empty()) return std::string{"AUTH_MODE=token needs API_TOKENS_FILE"};
  auto entries = read_token_file(settings.tokens_file);
  if (!entries) return entries.error();
  return std::unique_ptr<Authenticator>(
      std::make_unique<TokenAuthenticator>(settings.tokens_file, std::move(*entries), std::move(events)));
}

}  // namespace users::auth
