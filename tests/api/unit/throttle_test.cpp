#include "api/throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace users::api {
namespace {

using std::chrono::seconds;
using namespace std::chrono_literals;

TEST(ParseRate, EveryPeriodDrfKnowsByItsFirstLetter) {
  const std::pair<const char*, seconds> cases[] = {
      {"5/s", 1s},       {"5/sec", 1s},  {"5/second", 1s},  {"5/seconds", 1s}, {"5/m", 60s},      {"5/min", 60s},
      {"5/minute", 60s}, {"5/h", 3600s}, {"5/hour", 3600s}, {"5/d", 86400s},   {"5/day", 86400s}, {"5/dxyz", 86400s},
  };
  for (const auto& [text, period] : cases) {
    const auto rate = parse_rate(text);
    ASSERT_TRUE(rate.has_value()) << text;
    EXPECT_EQ(rate->requests, 5U) << text;
    EXPECT_EQ(rate->period, period) << text;
  }
  EXPECT_EQ(parse_rate("1000/hour")->requests, 1000U);
}

TEST(ParseRate, AnythingElseIsAnErrorThatSaysWhatIsExpected) {
  for (const char* text : {"", "5", "5/", "/s", "0/s", "-1/s", "five/s", "5/x", "5/S", "5/ second", " 5/s", "5.0/s",
                           "5/s/s", "99999999999/s"}) {
    const auto rate = parse_rate(text);
    ASSERT_FALSE(rate.has_value()) << '"' << text << '"';
    EXPECT_NE(rate.error().find("N/minute"), std::string::npos) << rate.error();
  }
}

// A fixed start, far from the clock's epoch.
constexpr Throttle::Clock::time_point kStart = Throttle::Clock::time_point(std::chrono::hours(1000));

TEST(Throttle, AllowsABurstOfNThenRefuses) {
  Throttle throttle(Rate{3, 60s});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.check("ana", kStart).allowed) << i;
  const auto refused = throttle.check("ana", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 20s);  // one request every 60 s / 3
}

TEST(Throttle, KeysAreCountedApart) {
  Throttle throttle(Rate{1, 60s});
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  EXPECT_TRUE(throttle.check("ben", kStart).allowed);
  EXPECT_FALSE(throttle.check("ana", kStart).allowed);
  EXPECT_EQ(throttle.tracked_keys(), 2U);
}

TEST(Throttle, TheWaitIsRoundedUpAndShrinksWithTime) {
  Throttle throttle(Rate{1, 60s});
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  EXPECT_EQ(throttle.check("ana", kStart + 500ms).retry_after, 60s);  // 59.5 s, rounded up
  EXPECT_EQ(throttle.check("ana", kStart + 30s).retry_after, 30s);
  EXPECT_EQ(throttle.check("ana", kStart + 59s + 1ms).retry_after, 1s);
}

TEST(Throttle, TheWaitIsAtLeastOneSecond) {
  Throttle throttle(Rate{10, 1s});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  const auto refused = throttle.check("ana", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1s);  // 100 ms, rounded up
}

TEST(Throttle, ARefusalSpendsNothingAndTheBudgetRecovers) {
  Throttle throttle(Rate{2, 10s});
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(throttle.check("ana", kStart + 1s).allowed);
  // One request back every 5 s, however often it was refused.
  EXPECT_TRUE(throttle.check("ana", kStart + 5s).allowed);
  EXPECT_FALSE(throttle.check("ana", kStart + 5s).allowed);
  // After a whole period of silence, the whole burst again.
  EXPECT_TRUE(throttle.check("ana", kStart + 20s).allowed);
  EXPECT_TRUE(throttle.check("ana", kStart + 20s).allowed);
  EXPECT_FALSE(throttle.check("ana", kStart + 20s).allowed);
}

TEST(Throttle, SteadyTrafficAtTheRateIsNeverRefused) {
  Throttle throttle(Rate{60, 60s});
  for (int i = 0; i < 600; ++i) EXPECT_TRUE(throttle.check("ana", kStart + seconds(i)).allowed) << i;
}

TEST(Throttle, ManyKeysPastTheBoundStayBounded) {
  constexpr std::size_t kMax = 64;
  Throttle throttle(Rate{1, 3600s}, kMax);
  for (int i = 0; i < 10000; ++i) throttle.check("client-" + std::to_string(i), kStart);
  EXPECT_LE(throttle.tracked_keys(), kMax);
  EXPECT_GE(throttle.tracked_keys(), kMax / 2);
}

TEST(Throttle, ABoundSmallerThanTheShardsStillHolds) {
  Throttle throttle(Rate{1, 3600s}, 3);
  for (int i = 0; i < 100; ++i) throttle.check("client-" + std::to_string(i), kStart);
  EXPECT_LE(throttle.tracked_keys(), 3U);
}

TEST(Throttle, PastTheBoundTheLeastRecentlySeenKeyIsForgotten) {
  Throttle throttle(Rate{1, 3600s}, 1);
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  EXPECT_FALSE(throttle.check("ana", kStart).allowed);
  EXPECT_TRUE(throttle.check("ben", kStart).allowed);  // ana is forgotten
  EXPECT_FALSE(throttle.check("ben", kStart).allowed);
  EXPECT_TRUE(throttle.check("ana", kStart).allowed);
  EXPECT_EQ(throttle.tracked_keys(), 1U);
}

TEST(Throttle, TheKeyForgottenIsTheOneSeenLeastRecently) {
  // Three keys of one shard, which holds two.
  std::vector<std::string> keys;
  const auto shard_of = [](const std::string& key) { return std::hash<std::string_view>{}(key) % Throttle::kShards; };
  for (int i = 0; keys.size() < 3; ++i) {
    std::string key = "key-" + std::to_string(i);
    if (keys.empty() || shard_of(key) == shard_of(keys.front())) keys.push_back(std::move(key));
  }
  Throttle throttle(Rate{1, 3600s}, 2 * Throttle::kShards);
  EXPECT_TRUE(throttle.check(keys[0], kStart).allowed);
  EXPECT_TRUE(throttle.check(keys[1], kStart).allowed);
  EXPECT_FALSE(throttle.check(keys[0], kStart).allowed);  // seen again: now the most recent
  EXPECT_TRUE(throttle.check(keys[2], kStart).allowed);   // the shard is full: keys[1] goes
  EXPECT_FALSE(throttle.check(keys[0], kStart).allowed);  // remembered
  EXPECT_TRUE(throttle.check(keys[1], kStart).allowed);   // forgotten, so a fresh burst
}

TEST(Throttle, ThreadsSharingItNeverLetMoreThroughThanTheRate) {
  constexpr std::uint32_t kBurst = 100;
  constexpr int kKeys = 8;
  Throttle throttle(Rate{kBurst, 3600s});
  std::atomic<int> allowed{0};
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (throttle.check("key-" + std::to_string((i + t) % kKeys), kStart).allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), static_cast<int>(kBurst) * kKeys);
}

TEST(ThrottledMessage, DrfsWordsWithTheSingularForOne) {
  EXPECT_EQ(throttled_message(1s), "Request was throttled. Expected available in 1 second.");
  EXPECT_EQ(throttled_message(2s), "Request was throttled. Expected available in 2 seconds.");
  EXPECT_EQ(throttled_message(86400s), "Request was throttled. Expected available in 86400 seconds.");
}

}  // namespace
}  // namespace users::api
