#include "domain/entity_tag.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "auth/openssl.hpp"

namespace users::domain {
namespace {

constexpr std::size_t kTagBytes = 16;  // 128 bits: collisions are out of reach

void append_big_endian(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

void append_framed(std::string& out, std::string_view text) {
  append_big_endian(out, text.size(), 4);
  out += text;
}

}  // namespace

std::string entity_tag(const User& user) {
  std::string framed;
  framed.reserve(8 + 4 + user.dni.size() + 4 + user.name.size());
  append_big_endian(framed, static_cast<std::uint64_t>(user.id), 8);
  append_framed(framed, user.dni);
  append_framed(framed, user.name);
  const auto digest = auth::sha256(framed);
  return auth::to_hex(digest.data(), kTagBytes);
}

bool Precondition::admits(const User& current) const {
  if (any_) return true;
  if (tags_.empty()) return false;
  const std::string tag = entity_tag(current);
  return std::find(tags_.begin(), tags_.end(), tag) != tags_.end();
}

}  // namespace users::domain
