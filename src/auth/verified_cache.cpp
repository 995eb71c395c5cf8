#include "auth/verified_cache.hpp"

#include <algorithm>
#include <cstring>

namespace users::auth {

VerifiedCache::VerifiedCache(std::size_t capacity) : shard_capacity_(std::max<std::size_t>(1, capacity / kShards)) {}

std::size_t VerifiedCache::DigestHash::operator()(const Sha256& digest) const noexcept {
  // The digest is already uniformly spread; its first bytes are a fine hash.
  std::size_t value = 0;
  std::memcpy(&value, digest.data() + 1, sizeof value);
  return value;
}

std::shared_ptr<const Principal> VerifiedCache::find(const Sha256& digest, std::uint64_t generation,
                                                     Clock::time_point now) {
  Shard& shard = shard_for(digest);
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(digest);
  if (it == shard.entries.end()) return nullptr;
  if (it->second.generation != generation || now >= it->second.valid_until) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.principal;
}

void VerifiedCache::insert(const Sha256& digest, std::shared_ptr<const Principal> principal, std::uint64_t generation,
                           Clock::time_point valid_until, Clock::time_point now) {
  Shard& shard = shard_for(digest);
  const std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= shard_capacity_) {
    std::erase_if(shard.entries, [&](const auto& entry) {
      return now >= entry.second.valid_until || entry.second.generation != generation;
    });
    if (shard.entries.size() >= shard_capacity_) shard.entries.clear();
  }
  shard.entries.insert_or_assign(digest, Entry{std::move(principal), generation, valid_until});
}

std::size_t VerifiedCache::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace users::auth
