// AUTH_MODE=token: "Authorization: Bearer TOKEN" or DRF's "Token TOKEN",
// checked against the SHA-256 digests of API_TOKENS_FILE.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/token_file.hpp"

namespace users::auth {

class TokenAuthenticator final : public Authenticator {
 public:
  TokenAuthenticator(std::string path, std::vector<TokenEntry> entries, Events events);

  boost::system::result<std::shared_ptr<const Principal>, Failure> authenticate(
      std::string_view authorization_header) override;
  [[nodiscard]] std::string_view challenge() const override { return "Token"; }
  // Re-reads the file; a file that does not parse keeps the tokens in use
  // (a typo during a rotation must not lock every client out) and says why.
  void reload() override;

 private:
  using Entries = std::vector<TokenEntry>;
  std::string path_;
  Events events_;
  // Requests read it while reload() swaps it, without a lock.
  std::atomic<std::shared_ptr<const Entries>> entries_;
};

}  // namespace users::auth
