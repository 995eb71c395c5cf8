#include "storage/sqlite/user_cache.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace users::storage::sqlite {
namespace {

using domain::User;

TEST(UserCache, AFilledUserIsFoundUntilInvalidated) {
  UserCache cache(8);
  EXPECT_FALSE(cache.find(1).has_value());
  cache.fill(User{1, "0987", "Ana"}, cache.ticket(1));
  ASSERT_TRUE(cache.find(1).has_value());
  EXPECT_EQ(*cache.find(1), (User{1, "0987", "Ana"}));
  EXPECT_FALSE(cache.find(9).has_value()) << "9 shares 1's slot in 8 slots but is another user";
  EXPECT_FALSE(cache.find(0).has_value()) << "0 marks an empty slot, and is no user";
  EXPECT_FALSE(cache.find(-7).has_value());
  cache.invalidate(1);
  EXPECT_FALSE(cache.find(1).has_value());
}

TEST(UserCache, AReadThatRacedWithAWriteDoesNotStoreWhatItRead) {
  UserCache cache(8);
  const auto ticket = cache.ticket(1);        // a reader starts reading the old row...
  cache.invalidate(1);                        // ...the writer commits the new one and invalidates...
  cache.fill(User{1, "old", "Old"}, ticket);  // ...and the reader's old row must not land
  EXPECT_FALSE(cache.find(1).has_value());
  cache.fill(User{1, "new", "New"}, cache.ticket(1));
  EXPECT_EQ(cache.find(1)->name, "New");
}

TEST(UserCache, OnlyOneOfTwoFillsWithTheSameTicketLands) {
  UserCache cache(8);
  const auto ticket = cache.ticket(2);
  cache.fill(User{2, "a", "A"}, ticket);
  cache.fill(User{2, "b", "B"}, ticket);
  EXPECT_EQ(cache.find(2)->dni, "a");
}

TEST(UserCache, ClearForgetsEverything) {
  UserCache cache(4);
  for (domain::UserId id = 1; id <= 4; ++id) cache.fill(User{id, "d", "n"}, cache.ticket(id));
  cache.clear();
  for (domain::UserId id = 1; id <= 4; ++id) EXPECT_FALSE(cache.find(id).has_value());
}

TEST(UserCache, LongestUtf8UserFitsAndLongerIsNotStored) {
  UserCache cache(4);
  std::string dni;
  std::string name;
  for (int i = 0; i < 13; ++i) dni += "\xf0\x9f\x98\x80";  // 13 four-byte characters
  for (int i = 0; i < 30; ++i) name += "\xf0\x9f\x98\x80";
  cache.fill(User{1, dni, name}, cache.ticket(1));
  ASSERT_TRUE(cache.find(1).has_value());
  EXPECT_EQ(*cache.find(1), (User{1, dni, name}));
  cache.fill(User{2, fmt::format("{}x", dni), name}, cache.ticket(2));  // an adopted table may hold longer values
  EXPECT_FALSE(cache.find(2).has_value());
}

TEST(UserCache, ZeroSlotsIsOff) {
  UserCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.fill(User{1, "d", "n"}, cache.ticket(1));
  EXPECT_FALSE(cache.find(1).has_value());
}

// Readers on two threads while a third rewrites the same users: every user a
// reader gets is one that was written whole (dni and name of one version),
// never a mix, and never older than the last invalidation it saw complete.
TEST(UserCache, ReadersNeverSeeATornOrStaleUser) {
  UserCache cache(4);
  std::atomic<int> published{0};     // committed
  std::atomic<int> acknowledged{0};  // invalidated, so a requester may have been told
  std::atomic<bool> done{false};
  std::atomic<long> hits{0};
  auto version_of = [](const User& user) { return std::stoi(user.dni.substr(1)); };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const int floor = acknowledged.load();
        if (auto user = cache.find(1)) {
          ++hits;
          const int version = version_of(*user);
          ASSERT_EQ(user->name, fmt::format("n{}{:x>20}", version, "")) << "torn";
          ASSERT_GE(version, floor) << "stale";
        } else {
          const auto ticket = cache.ticket(1);
          const int version = published.load();  // "the database read"
          cache.fill(User{1, fmt::format("d{}", version), fmt::format("n{}{:x>20}", version, "")}, ticket);
        }
      }
    });
  }
  // At least 20,000 versions, and until the readers have had 1,000 hits (or 5 s).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int version = 1; version < 20000 || (hits.load() < 1000 && std::chrono::steady_clock::now() < give_up);
       ++version) {
    published.store(version);  // "commit"
    cache.invalidate(1);       // then invalidate, then acknowledge
    acknowledged.store(version);
    if (version % 64 == 0) std::this_thread::yield();
  }
  done.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_GE(hits.load(), 1000) << "the readers must have read from the cache while it changed";
}

}  // namespace
}  // namespace users::storage::sqlite
