// The JSON of the whole unfiltered list, kept while the store's data has not
// changed, so that the reference's `GET /api/users/` on a small table costs
// no list read and no rendering. Keyed by the store's data version
// (storage::UserStore::data_version): a version taken before the store was
// read names data no older than what was read, and changes before any
// acknowledged write is seen, never to come back; so a client that got its
// answer for a write, through this replica or another, never gets a list
// without that write. One entry, of at most one chunk of users
// (LIST_PAGE_SIZE), so its memory is one rendered chunk; a list longer than a
// chunk is streamed and not kept.
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace users::api {

class ListCache {
 public:
  // The JSON rendered at `version`, if that is what is kept.
  [[nodiscard]] std::shared_ptr<const std::string> find(const std::string& version) const {
    const std::scoped_lock lock(mutex_);
    if (!json_ || version != version_) return nullptr;
    return json_;
  }

  // Keeps `json`, rendered from a read that began at `version`. Versions have
  // no order to compare: an older render replacing a newer one only costs
  // a miss, since an older version never comes back.
  void keep(std::string version, std::shared_ptr<const std::string> json) {
    const std::scoped_lock lock(mutex_);
    version_ = std::move(version);
    json_ = std::move(json);
  }

 private:
  mutable std::mutex mutex_;
  std::string version_;
  std::shared_ptr<const std::string> json_;
};

}  // namespace users::api
