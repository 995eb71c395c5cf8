// Where the JWT mode gets its keys: a mounted JWKS file, or an https URL
// fetched in the background (jwks_fetcher.hpp).
#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "auth/authenticator.hpp"
#include "auth/jwks.hpp"

namespace users::auth {

struct KeySet {
  std::shared_ptr<const Jwks> keys;
  // Changes only when the keys do, so that tokens verified with a key that
  // has since been removed stop being served from the verified cache.
  std::uint64_t generation = 0;
};

class KeySource {
 public:
  KeySource() = default;
  KeySource(const KeySource&) = delete;
  KeySource& operator=(const KeySource&) = delete;
  KeySource(KeySource&&) = delete;
  KeySource& operator=(KeySource&&) = delete;
  virtual ~KeySource() = default;

  // nullptr until keys are loaded. Thread-safe, never blocks.
  [[nodiscard]] virtual std::shared_ptr<const KeySet> current() const = 0;
  [[nodiscard]] virtual std::optional<std::string> not_ready() const = 0;
  // A token named a kid the set does not hold: the provider may have rotated.
  virtual void unknown_kid() {}
  // SIGHUP.
  virtual void reload() = 0;
};

// JWT_JWKS_FILE: read at start (an unusable file is an error) and on reload()
// (an unusable file then keeps the keys in use, and says why).
class FileKeySource final : public KeySource {
 public:
  static boost::system::result<std::unique_ptr<FileKeySource>, std::string> open(std::string path, Events events);

  [[nodiscard]] std::shared_ptr<const KeySet> current() const override { return keys_.load(std::memory_order_acquire); }
  [[nodiscard]] std::optional<std::string> not_ready() const override { return std::nullopt; }
  // Called from one thread at a time (the signal handler's).
  void reload() override;

 private:
  FileKeySource(std::string path, Events events) : path_(std::move(path)), events_(std::move(events)) {}
  boost::system::result<void, std::string> load();

  std::string path_;
  Events events_;
  std::string last_text_;
  std::atomic<std::shared_ptr<const KeySet>> keys_;
};

}  // namespace users::auth
