#include "http/byte_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace users::http {
namespace {

TEST(ByteBudget, SharesAddUpToTheLimitAndNoFurther) {
  ByteBudget budget(100);
  ByteBudget::Share first(budget);
  ByteBudget::Share second(budget);
  EXPECT_TRUE(first.resize(60));
  EXPECT_TRUE(second.resize(40));
  EXPECT_EQ(budget.used(), 100U);
  EXPECT_FALSE(second.resize(41)) << "one byte past the limit";
  EXPECT_EQ(second.held(), 40U) << "a refused resize changes nothing";
  EXPECT_EQ(budget.used(), 100U);
}

TEST(ByteBudget, ShrinkingAlwaysSucceedsAndGivesBack) {
  ByteBudget budget(10);
  ByteBudget::Share share(budget);
  ASSERT_TRUE(share.resize(10));
  EXPECT_TRUE(share.resize(3));
  EXPECT_EQ(budget.used(), 3U);
  EXPECT_TRUE(share.resize(0));
  EXPECT_EQ(budget.used(), 0U);
}

TEST(ByteBudget, ADestroyedShareGivesEverythingBack) {
  ByteBudget budget(1000);
  {
    ByteBudget::Share share(budget);
    ASSERT_TRUE(share.resize(700));
    EXPECT_FALSE(ByteBudget::Share(budget).resize(301));
  }
  EXPECT_EQ(budget.used(), 0U);
  ByteBudget::Share after(budget);
  EXPECT_TRUE(after.resize(1000));
}

TEST(ByteBudget, ThreadsRacingForItNeverHoldMoreThanTheLimit) {
  constexpr std::size_t kLimit = 1000;
  ByteBudget budget(kLimit);
  std::atomic<bool> exceeded{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      ByteBudget::Share share(budget);
      for (int i = 0; i < 20000; ++i) {
        share.resize(static_cast<std::size_t>((i * 37) % 400));
        if (budget.used() > kLimit) exceeded = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(exceeded.load());
  EXPECT_EQ(budget.used(), 0U);
}

}  // namespace
}  // namespace users::http
