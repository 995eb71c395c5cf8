// The SQLite writer thread's way back to a requester: its completion
// handler, type-erased, called once with the write's result.
#pragma once

#include <memory>
#include <utility>

namespace users::storage::sqlite {

// The requester's completion handler, type-erased. (Boost 1.81's
// any_completion_handler wraps itself recursively when moved through
// asio::post, so it is not used here.)
template <typename Result>
class Completion {
 public:
  Completion() = default;
  template <typename Handler>
  explicit Completion(Handler handler) : impl_(std::make_unique<Impl<Handler>>(std::move(handler))) {}

  void operator()(Result result) && { std::exchange(impl_, nullptr)->deliver(std::move(result)); }

 private:
  struct Base {
    Base() = default;
    Base(const Base&) = delete;
    Base& operator=(const Base&) = delete;
    Base(Base&&) = delete;
    Base& operator=(Base&&) = delete;
    virtual ~Base() = default;
    virtual void deliver(Result result) = 0;
  };
  template <typename Handler>
  struct Impl final : Base {
    explicit Impl(Handler h) : handler(std::move(h)) {}
    void deliver(Result result) override { std::move(handler)(std::move(result)); }
    Handler handler;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace users::storage::sqlite
