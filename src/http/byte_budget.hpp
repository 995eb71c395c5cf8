// A budget of bytes shared by every connection of a server: each one
// reserves what it is about to hold before it holds it, so that the sum
// stays under the limit whatever clients send, and gives it back after.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace users::http {

class ByteBudget {
 public:
  explicit ByteBudget(std::size_t limit) : limit_(limit) {}

  // What one holder has reserved; resized as its needs change, released
  // when destroyed.
  class Share {
   public:
    explicit Share(ByteBudget& budget) : budget_(budget) {}
    Share(const Share&) = delete;
    Share& operator=(const Share&) = delete;
    Share(Share&&) = delete;
    Share& operator=(Share&&) = delete;
    ~Share() { resize(0); }

    // False, with the share unchanged, when growing to `bytes` would pass
    // the limit. Shrinking always succeeds.
    bool resize(std::size_t bytes) {
      if (bytes == held_) return true;  // the usual case (no body): no atomic operation
      if (bytes > held_) {
        if (!budget_.take(bytes - held_)) return false;
      } else {
        budget_.give_back(held_ - bytes);
      }
      held_ = bytes;
      return true;
    }
    [[nodiscard]] std::size_t held() const { return held_; }

   private:
    ByteBudget& budget_;
    std::size_t held_ = 0;
  };

  [[nodiscard]] std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  bool take(std::size_t bytes) {
    auto used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - std::min(used, limit_)) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void give_back(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace users::http
