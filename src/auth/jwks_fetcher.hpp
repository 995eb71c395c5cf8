// JWT_JWKS_URL: the identity provider's key set, fetched over https on a
// thread of its own (its own io_context), so no request ever waits on it.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "auth/key_source.hpp"

namespace users::auth {

struct FetcherOptions {
  std::string url;      // https://host[:port]/path
  std::string ca_file;  // PEM; empty: the system's CA store
  std::chrono::seconds refresh{300};
  // A token with an unknown kid triggers a fetch at most this often, so a
  // flood of forged kids cannot turn into a flood of fetches.
  std::chrono::seconds unknown_kid_interval{60};
  // One fetch, from the DNS lookup to the last byte.
  std::chrono::milliseconds timeout{10000};
  std::size_t max_bytes = std::size_t{1024} * 1024;
  Events events;
};

class JwksFetcher final : public KeySource {
 public:
  // Refuses anything but an https URL, and a CA file that cannot be read.
  // The first fetch starts at once; until it succeeds, not_ready() says why.
  static boost::system::result<std::unique_ptr<JwksFetcher>, std::string> start(FetcherOptions options);
  ~JwksFetcher() override;
  JwksFetcher(const JwksFetcher&) = delete;
  JwksFetcher& operator=(const JwksFetcher&) = delete;
  JwksFetcher(JwksFetcher&&) = delete;
  JwksFetcher& operator=(JwksFetcher&&) = delete;

  [[nodiscard]] std::shared_ptr<const KeySet> current() const override;
  [[nodiscard]] std::optional<std::string> not_ready() const override;
  void unknown_kid() override;
  // A fetch now, whatever the interval.
  void reload() override;

  // Fetches finished (succeeded or not), for tests.
  [[nodiscard]] std::uint64_t fetches() const;

  struct Impl;

 private:
  explicit JwksFetcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace users::auth
