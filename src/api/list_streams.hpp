// How many long lists may be streamed at once. A list longer than one chunk
// keeps an IO thread rendering and a buffer filled until its client has read
// it all; past the cap a list gets 503 with Retry-After, so that lists never
// starve the single-user requests sharing those threads, and slow readers of
// lists never hold more than cap x chunk bytes of responses.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>

namespace users::api {

class ListStreams {
 public:
  // 0: no cap.
  explicit ListStreams(std::size_t cap) : cap_(cap) {}

  // A place among the streams, given back when it is destroyed.
  class Slot {
   public:
    explicit Slot(ListStreams* owner) : owner_(owner) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_ != nullptr) owner_->active_.fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    ListStreams* owner_;
  };

  // Empty when `cap` streams are running already.
  std::optional<Slot> try_acquire() {
    const auto before = active_.fetch_add(1, std::memory_order_relaxed);
    if (cap_ != 0 && before >= cap_) {
      active_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return std::optional<Slot>(std::in_place, this);
  }

  [[nodiscard]] std::size_t active() const { return active_.load(std::memory_order_relaxed); }

 private:
  std::size_t cap_;
  std::atomic<std::size_t> active_{0};
};

}  // namespace users::api
