#include "api/list_streams.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace users::api {
namespace {

TEST(ListStreams, PastTheCapNoSlotIsGiven) {
  ListStreams streams(2);
  auto first = streams.try_acquire();
  auto second = streams.try_acquire();
  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
  EXPECT_FALSE(streams.try_acquire().has_value());
  EXPECT_EQ(streams.active(), 2U) << "a refusal takes nothing";
}

TEST(ListStreams, AFinishedStreamFreesItsSlot) {
  ListStreams streams(1);
  {
    auto slot = streams.try_acquire();
    ASSERT_TRUE(slot.has_value());
    EXPECT_FALSE(streams.try_acquire().has_value());
  }
  EXPECT_EQ(streams.active(), 0U);
  EXPECT_TRUE(streams.try_acquire().has_value());
}

TEST(ListStreams, AMovedSlotIsGivenBackOnce) {
  ListStreams streams(1);
  std::optional<ListStreams::Slot> kept;
  {
    auto slot = streams.try_acquire();
    ASSERT_TRUE(slot.has_value());
    kept.emplace(std::move(*slot));
  }
  EXPECT_EQ(streams.active(), 1U) << "the moved-from slot gave nothing back";
  kept.reset();
  EXPECT_EQ(streams.active(), 0U);
}

TEST(ListStreams, ZeroMeansNoCap) {
  ListStreams streams(0);
  std::vector<ListStreams::Slot> slots;
  for (int i = 0; i < 100; ++i) {
    auto slot = streams.try_acquire();
    ASSERT_TRUE(slot.has_value());
    slots.push_back(std::move(*slot));
  }
  EXPECT_EQ(streams.active(), 100U);
}

}  // namespace
}  // namespace users::api
