#include "storage/sqlite/user_cache.hpp"

#include <bit>
#include <cstring>
#include <string>
#include <thread>

namespace users::storage::sqlite {
using domain::User;
using domain::UserId;

namespace {

constexpr std::uint32_t kLengthBits = 16;
constexpr std::uint32_t kLengthMask = (1U << kLengthBits) - 1;

}  // namespace

UserCache::UserCache(std::size_t slots) {
  if (slots == 0) return;
  const auto size = std::bit_ceil(slots);
  mask_ = size - 1;
  slots_ = std::make_unique<Slot[]>(size);  // NOLINT(cppcoreguidelines-avoid-c-arrays): see the member
}

UserCache::Slot& UserCache::slot(UserId id) const {
  // Ids are dense and increasing: the low bits spread them evenly.
  return slots_[static_cast<std::size_t>(id) & mask_];
}

std::optional<User> UserCache::find(UserId id) const {
  if (!enabled() || id <= 0) return std::nullopt;  // 0 marks an empty slot
  const Slot& entry = slot(id);
  const auto before = entry.sequence.load(std::memory_order_acquire);
  if ((before & 1U) != 0 || entry.id.load(std::memory_order_relaxed) != id) return std::nullopt;
  const auto lengths = entry.lengths.load(std::memory_order_relaxed);
  std::array<char, kWords * 8> text{};
  for (std::size_t i = 0; i < kWords; ++i) {
    const auto word = entry.text[i].load(std::memory_order_relaxed);
    std::memcpy(text.data() + i * 8, &word, sizeof word);
  }
  // The copy above counts only if no writer took the slot meanwhile.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (entry.sequence.load(std::memory_order_relaxed) != before) return std::nullopt;
  const std::size_t dni_bytes = lengths & kLengthMask;
  const std::size_t name_bytes = lengths >> kLengthBits;
  return User{id, std::string(text.data(), dni_bytes), std::string(text.data() + dni_bytes, name_bytes)};
}

std::uint64_t UserCache::ticket(UserId id) const {
  if (!enabled()) return 1;  // odd: fill() will not store
  return slot(id).sequence.load(std::memory_order_acquire);
}

bool UserCache::try_lock(Slot& entry, std::uint64_t expected) {
  if ((expected & 1U) != 0) return false;
  if (!entry.sequence.compare_exchange_strong(expected, expected + 1, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
    return false;
  }
  // A reader that sees any store made from here on also sees the odd sequence.
  std::atomic_thread_fence(std::memory_order_release);
  return true;
}

void UserCache::lock(Slot& entry) {
  // Held only while a reader copies at most 200 bytes in: a short spin.
  for (;;) {
    if (try_lock(entry, entry.sequence.load(std::memory_order_relaxed))) return;
    std::this_thread::yield();
  }
}

void UserCache::fill(const User& user, std::uint64_t ticket) {
  if (!enabled() || user.id <= 0 || user.dni.size() + user.name.size() > kTextBytes) return;
  Slot& entry = slot(user.id);
  if (!try_lock(entry, ticket)) return;  // written since the read began: what it read may be stale
  std::array<char, kWords * 8> text{};
  std::memcpy(text.data(), user.dni.data(), user.dni.size());
  std::memcpy(text.data() + user.dni.size(), user.name.data(), user.name.size());
  for (std::size_t i = 0; i < kWords; ++i) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i * 8, sizeof word);
    entry.text[i].store(word, std::memory_order_relaxed);
  }
  entry.lengths.store(static_cast<std::uint32_t>(user.dni.size() | (user.name.size() << kLengthBits)),
                      std::memory_order_relaxed);
  entry.id.store(user.id, std::memory_order_relaxed);
  entry.sequence.store(ticket + 2, std::memory_order_release);
}

void UserCache::invalidate(UserId id) {
  if (!enabled()) return;
  Slot& entry = slot(id);
  lock(entry);
  entry.id.store(0, std::memory_order_relaxed);
  // +1: even again, and different from every ticket taken before.
  entry.sequence.fetch_add(1, std::memory_order_release);
}

void UserCache::clear() {
  if (!enabled()) return;
  for (std::size_t i = 0; i <= mask_; ++i) {
    Slot& entry = slots_[i];
    lock(entry);
    entry.id.store(0, std::memory_order_relaxed);
    entry.sequence.fetch_add(1, std::memory_order_release);
  }
}

}  // namespace users::storage::sqlite
