#include "auth/token_generator.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "auth/openssl.hpp"
#include "auth/principal.hpp"

namespace users::auth {

boost::system::result<NewToken, std::string> generate_token(std::string_view name, std::string_view scopes) {
  const bool printable = std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '#'; });
  if (name.empty() || !printable) {
    return {boost::system::in_place_error,
            "NAME must be printable ASCII without spaces or '#' (it is the token file's first field)"};
  }
  if (auto parsed = parse_token_file_scopes(scopes); !parsed) return {boost::system::in_place_error, parsed.error()};
  // 256 bits: guessing is hopeless, and the file's fast SHA-256 (no salt, no
  // stretching) is then safe, as it would not be for a password.
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return {boost::system::in_place_error, "no random bytes: " + openssl_error()};
  }
  NewToken out;
  out.token = base64url_encode(std::string_view{reinterpret_cast<const char*>(random.data()), random.size()});
  const Sha256 digest = sha256(out.token);
  out.line = fmt::format("{} {} {}", name, scopes, to_hex(digest.data(), digest.size()));
  return out;
}

}  // namespace users::auth
