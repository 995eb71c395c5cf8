// Tokens already verified, by the SHA-256 of their compact form, until they
// expire: a valid JWT then costs a hash and a lookup per request instead of
// a signature check.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "auth/openssl.hpp"
#include "auth/principal.hpp"

namespace users::auth {

class VerifiedCache {
 public:
  using Clock = std::chrono::system_clock;

  // `capacity` entries in all. When a shard is full, its expired entries go
  // first, then the whole shard: a flood of distinct valid tokens costs
  // signature checks, never unbounded memory.
  explicit VerifiedCache(std::size_t capacity = 16384);

  // The principal when `digest` was stored with a valid_until after `now`
  // and the same key-set generation; an expired entry is dropped, not served.
  std::shared_ptr<const Principal> find(const Sha256& digest, std::uint64_t generation, Clock::time_point now);
  void insert(const Sha256& digest, std::shared_ptr<const Principal> principal, std::uint64_t generation,
              Clock::time_point valid_until, Clock::time_point now);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Principal> principal;
    std::uint64_t generation = 0;
    Clock::time_point valid_until;
  };
  struct DigestHash {
    std::size_t operator()(const Sha256& digest) const noexcept;
  };
  // Sharded so that IO threads rarely wait on one another's lookups.
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<Sha256, Entry, DigestHash> entries;
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard_for(const Sha256& digest) { return shards_[digest[0] % kShards]; }

  std::size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace users::auth
