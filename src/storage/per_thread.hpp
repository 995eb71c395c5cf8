// One `T` per thread per owner, found without a lock: how both backends give
// each IO thread its own connections (SQLite's reader, PostgreSQL's pool).
//
// The owner keeps every `T` it made (under a mutex, taken only when a thread
// makes its first one) and destroys them with itself; each thread keeps a
// plain list of (owner id, pointer). Owner ids are never reused, so an entry
// left behind by a destroyed owner can never match again. A thread's list
// grows by one entry per owner it ever used: a handful in the server, a few
// hundred at most in a test run.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace users::storage {

template <typename T>
class PerThread {
 public:
  PerThread() = default;
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;
  PerThread(PerThread&&) = delete;
  PerThread& operator=(PerThread&&) = delete;
  ~PerThread() = default;

  // The calling thread's `T`, or null when it has none yet.
  [[nodiscard]] T* find() const {
    for (const Entry& entry : entries()) {
      if (entry.owner == id_) return entry.value;
    }
    return nullptr;
  }

  // Makes `value` the calling thread's `T`, kept until this owner goes.
  T& adopt(std::unique_ptr<T> value) {
    T* raw = value.get();
    {
      const std::lock_guard lock(mutex_);
      owned_.push_back(std::move(value));
    }
    entries().push_back(Entry{id_, raw});
    return *raw;
  }

 private:
  struct Entry {
    std::uint64_t owner = 0;
    T* value = nullptr;
  };

  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  // This thread's index, for every PerThread<T> of this T.
  static std::vector<Entry>& entries() {
    thread_local std::vector<Entry> index;
    return index;
  }

  const std::uint64_t id_ = next_id();
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> owned_;
};

}  // namespace users::storage
