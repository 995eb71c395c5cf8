// AUTH_MODE=jwt: "Authorization: Bearer JWT", verified with the identity
// provider's keys once, then served from the verified cache until it expires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "auth/authenticator.hpp"
#include "auth/jwt.hpp"
#include "auth/key_source.hpp"
#include "auth/verified_cache.hpp"

namespace users::auth {

class JwtAuthenticator final : public Authenticator {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  JwtAuthenticator(
      JwtPolicy policy, std::unique_ptr<KeySource> keys, Events events,
      Clock clock = [] { return std::chrono::system_clock::now(); });

  boost::system::result<std::shared_ptr<const Principal>, Failure> authenticate(
      std::string_view authorization_header) override;
  [[nodiscard]] std::string_view challenge() const override { return "Bearer realm=\"api\""; }
  [[nodiscard]] std::optional<std::string> not_ready() const override { return keys_->not_ready(); }
  void reload() override { keys_->reload(); }

  // Signatures checked so far (cache misses), for tests and metrics.
  [[nodiscard]] std::uint64_t signature_checks() const { return signature_checks_.load(std::memory_order_relaxed); }
  [[nodiscard]] KeySource& keys() { return *keys_; }

 private:
  JwtPolicy policy_;
  std::unique_ptr<KeySource> keys_;
  Events events_;
  Clock clock_;
  VerifiedCache cache_;
  std::atomic<std::uint64_t> signature_checks_{0};
};

}  // namespace users::auth
