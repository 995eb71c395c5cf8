// Users read from SQLite, kept in memory so that a GET of one user costs no
// SQLite read transaction (whose WAL locks are two fcntl(2) calls and, with
// several IO threads, a contended mutex: 3.2 system calls per GET).
//
// Coherent with the writer: the writer thread invalidates every user a commit
// changed after the COMMIT and before any requester is told, so a client that
// got its 200 for a write never reads the older user. A read that raced with
// a commit does not store what it read: each slot has a sequence number that
// every change bumps, and a read stores its row only if the sequence it saw
// before reading the database is still there (fill() below).
//
// Lock-free for readers (a seqlock per slot); a fixed array, direct-mapped by
// id, so its memory is fixed: slots × 256 bytes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "domain/user.hpp"

namespace users::storage::sqlite {

class UserCache {
 public:
  // `slots` is rounded up to a power of two; 0 turns the cache off.
  explicit UserCache(std::size_t slots);

  [[nodiscard]] bool enabled() const { return mask_ != kDisabled; }

  // The user with `id`, if its slot holds it.
  [[nodiscard]] std::optional<domain::User> find(domain::UserId id) const;

  // What fill() needs to know that nothing changed the slot meanwhile: taken
  // before the database read.
  [[nodiscard]] std::uint64_t ticket(domain::UserId id) const;

  // Stores `user`, read from the database after `ticket` was taken, unless the
  // slot changed since (a write, or another read's fill).
  void fill(const domain::User& user, std::uint64_t ticket);

  // The writer, after a commit that changed `id` and before acknowledging it.
  void invalidate(domain::UserId id);

  // Every slot: the database was changed by someone else.
  void clear();

 private:
  // The longest dni (13 characters) and name (30) in UTF-8, at 4 bytes each.
  static constexpr std::size_t kTextBytes = (domain::kDniMaxChars + domain::kNameMaxChars) * 4;
  static constexpr std::size_t kWords = (kTextBytes + 7) / 8;
  static constexpr std::size_t kDisabled = ~std::size_t{0};

  struct alignas(64) Slot {
    std::atomic<std::uint64_t> sequence{0};  // odd while being written
    std::atomic<domain::UserId> id{0};       // 0: empty (ids start at 1)
    std::atomic<std::uint32_t> lengths{0};   // dni bytes | name bytes << 16
    std::array<std::atomic<std::uint64_t>, kWords> text{};
  };

  Slot& slot(domain::UserId id) const;
  // Takes the slot for writing: sequence from even `expected` to odd.
  static bool try_lock(Slot& entry, std::uint64_t expected);
  static void lock(Slot& entry);

  std::size_t mask_ = kDisabled;
  std::unique_ptr<Slot[]> slots_;  // NOLINT(cppcoreguidelines-avoid-c-arrays): a fixed array of atomics
};

}  // namespace users::storage::sqlite
