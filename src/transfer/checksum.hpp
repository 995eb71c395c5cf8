// What copy compares on both sides: the number of users and a sum of one
// 64-bit hash per user over (id, dni, name). A sum, so that it needs no
// order, and so that a table's checksum after an append is its checksum
// before plus the source's. For spotting a lost or altered row, not for
// security (FNV-1a, finalised with SplitMix64's mixer).
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/user.hpp"

namespace users::transfer {

class TableChecksum {
 public:
  void add(const domain::User& user) {
    std::uint64_t hash = kOffsetBasis;
    hash = mix_in(hash, static_cast<std::uint64_t>(user.id));
    hash = mix_in(hash, user.dni.size());
    hash = mix_in(hash, user.dni);
    hash = mix_in(hash, user.name.size());
    hash = mix_in(hash, user.name);
    sum_ += finalise(hash);
    ++count_;
  }

  [[nodiscard]] std::int64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t sum() const { return sum_; }

  friend TableChecksum operator+(TableChecksum a, const TableChecksum& b) {
    a.count_ += b.count_;
    a.sum_ += b.sum_;
    return a;
  }
  friend bool operator==(const TableChecksum&, const TableChecksum&) = default;

 private:
  static constexpr std::uint64_t kOffsetBasis = 14695981039346656037ULL;
  static constexpr std::uint64_t kPrime = 1099511628211ULL;

  static std::uint64_t mix_in(std::uint64_t hash, std::string_view bytes) {
    for (const char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= kPrime;
    }
    return hash;
  }
  // The eight bytes of `value`, least significant first.
  static std::uint64_t mix_in(std::uint64_t hash, std::uint64_t value) {
    for (int byte = 0; byte < 8; ++byte) {
      hash ^= (value >> (8 * byte)) & 0xFFU;
      hash *= kPrime;
    }
    return hash;
  }
  static std::uint64_t finalise(std::uint64_t hash) {
    hash = (hash ^ (hash >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    hash = (hash ^ (hash >> 27U)) * 0x94D049BB133111EBULL;
    return hash ^ (hash >> 31U);
  }

  std::int64_t count_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace users::transfer
