// The few OpenSSL calls auth/ shares: SHA-256, base64url and owning
// pointers for OpenSSL's objects. Nothing here is hand-written crypto.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace users::auth {

using Sha256 = std::array<std::uint8_t, 32>;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Sha256 sha256(std::string_view bytes);

// Lowercase hex, as sha256sum prints it.
std::string to_hex(const std::uint8_t* bytes, std::size_t size);

// RFC 4648 section 5 without padding, as JWS uses it (RFC 7515 section 2).
// Refuses padding, whitespace and characters of the standard alphabet, so
// that one value has one spelling.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

// OpenSSL's error queue as one line (and the queue emptied), for messages.
std::string openssl_error();

}  // namespace users::auth
