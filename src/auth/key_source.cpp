#include "auth/key_source.hpp"

#include <fmt/format.h>

#include "auth/text_file.hpp"

namespace users::auth {

boost::system::result<std::unique_ptr<FileKeySource>, std::string> FileKeySource::open(std::string path,
                                                                                       Events events) {
  std::unique_ptr<FileKeySource> source(new FileKeySource(std::move(path), std::move(events)));
  if (auto loaded = source->load(); !loaded) return loaded.error();
  return source;
}

boost::system::result<void, std::string> FileKeySource::load() {
  auto text = read_text_file(path_);
  if (!text) return text.error();
  auto keys = parse_jwks(*text);
  if (!keys) return fmt::format("{}: {}", path_, keys.error());
  const auto previous = keys_.load(std::memory_order_acquire);
  if (previous && *text == last_text_) return {};
  const std::uint64_t generation = previous ? previous->generation + 1 : 1;
  keys_.store(std::make_shared<const KeySet>(KeySet{std::move(*keys), generation}), std::memory_order_release);
  last_text_ = std::move(*text);
  return {};
}

void FileKeySource::reload() {
  if (auto loaded = load(); !loaded) {
    events_.notify(Events::Severity::kError, "JWKS file not reloaded, the previous keys stay in use", loaded.error());
    return;
  }
  events_.notify(Events::Severity::kInfo, "JWKS file reloaded", path_);
}

}  // namespace users::auth
