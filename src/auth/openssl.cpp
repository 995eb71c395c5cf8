#include "auth/openssl.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <memory>

namespace users::auth {

namespace {

// One digest per request is on the hot path: EVP_Digest with EVP_sha256()
// looks the algorithm up in the provider and allocates a context on every
// call (about 3,000 of the 5,700 instructions it took, by callgrind). The
// algorithm is fetched once for the process and each thread keeps its
// context.
const EVP_MD* sha256_algorithm() {
  static const EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* thread_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  return context.get();
}

// The value of a symbol of the standard alphabet (base64url_decode has
// already translated - and _ and refused anything else).
unsigned sextet(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a') + 26U;
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0') + 52U;
  return c == '+' ? 62U : 63U;
}

}  // namespace

Sha256 sha256(std::string_view bytes) {
  Sha256 digest{};
  unsigned int size = 0;
  EVP_MD_CTX* context = thread_context();
  const EVP_MD* algorithm = sha256_algorithm();
  // Cannot fail for SHA-256 from the default provider short of memory
  // exhaustion; a zero digest then matches no token file entry.
  const bool done = context != nullptr && algorithm != nullptr &&
                    EVP_DigestInit_ex2(context, algorithm, nullptr) == 1 &&
                    EVP_DigestUpdate(context, bytes.data(), bytes.size()) == 1 &&
                    EVP_DigestFinal_ex(context, digest.data(), &size) == 1;
  if (!done) digest.fill(0);
  return digest;
}

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4U];
    out += kDigits[bytes[i] & 0xfU];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string standard;
  standard.reserve(text.size() + 3);
  for (const char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      standard += c;
    } else if (c == '-') {
      standard += '+';
    } else if (c == '_') {
      standard += '/';
    } else {
      return std::nullopt;
    }
  }
  const std::size_t padding = (4 - standard.size() % 4) % 4;
  // RFC 4648 section 3.5: the bits of the last symbol that stand for no
  // byte (2 of them before one '=', 4 before two) must be zero, or 4 or 16
  // spellings would decode to one value (a JWS signature could be altered
  // and still verify; found by tests/fuzz, credentials).
  if (padding > 0 && (sextet(standard.back()) & (padding == 1 ? 0x3U : 0xFU)) != 0) return std::nullopt;
  standard.append(padding, '=');
  std::string out(standard.size() / 4 * 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for as zeros.
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

std::string openssl_error() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? std::string{"unknown OpenSSL error"} : out;
}

}  // namespace users::auth
