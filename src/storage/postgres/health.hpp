// Whether PostgreSQL can be reached, as every thread of a store sees it.
// Each change is reported once, whichever thread notices it first.
#pragma once

#include <atomic>
#include <functional>
#include <string_view>
#include <utility>

namespace users::storage::postgres {

class Health {
 public:
  using Notify = std::function<void(bool reachable, std::string_view detail)>;
  explicit Health(Notify notify) : notify_(std::move(notify)) {}

  void connect_failed(std::string_view detail) {
    if (reachable_.exchange(false, std::memory_order_relaxed)) notify_(false, detail);
  }
  void connect_succeeded() {
    if (!reachable_.exchange(true, std::memory_order_relaxed)) notify_(true, {});
  }
  [[nodiscard]] bool reachable() const { return reachable_.load(std::memory_order_relaxed); }

 private:
  Notify notify_;
  std::atomic<bool> reachable_{true};
};

}  // namespace users::storage::postgres
