// The JSON of the whole unfiltered list, kept while the store has not changed,
// so that the reference's `GET /api/users/` on a small table costs no SQLite
// read transaction and no rendering. Keyed by the store's change count
// (storage::UserStore::change_count): a count taken before the store was read
// stays valid until the next acknowledged write, which bumps it first, so a
// client that got its answer for a write never gets a list without that write.
// One entry, of at most one chunk of users (LIST_PAGE_SIZE), so its memory is
// one rendered chunk; a list longer than a chunk is streamed and not kept.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace users::api {

class ListCache {
 public:
  // The JSON rendered for `change_count`, if that is what is kept.
  [[nodiscard]] std::shared_ptr<const std::string> find(std::uint64_t change_count) const {
    const std::scoped_lock lock(mutex_);
    if (!json_ || change_count != change_count_) return nullptr;
    return json_;
  }

  // Keeps `json`, rendered from a read that began at `change_count`, unless a
  // later one is kept already.
  void keep(std::uint64_t change_count, std::shared_ptr<const std::string> json) {
    const std::scoped_lock lock(mutex_);
    if (json_ && change_count < change_count_) return;
    change_count_ = change_count;
    json_ = std::move(json);
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t change_count_ = 0;
  std::shared_ptr<const std::string> json_;
};

}  // namespace users::api
