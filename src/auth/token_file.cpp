#include "auth/token_file.hpp"

#include <fmt/format.h>

#include <optional>

#include "auth/text_file.hpp"

namespace users::auth {
namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<Sha256> parse_digest(std::string_view hex) {
  Sha256 digest{};
  if (hex.size() != digest.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return digest;
}

}  // namespace

boost::system::result<std::vector<TokenEntry>, std::string> parse_token_file(std::string_view text,
                                                                             std::string_view source) {
  std::vector<TokenEntry> entries;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto parts = fields(line);
    if (parts.empty()) continue;
    const auto fail = [&](std::string_view why) { return fmt::format("{}:{}: {}", source, number, why); };
    if (parts.size() != 3) return fail(fmt::format("expected NAME SCOPES SHA256, found {} fields", parts.size()));
    auto scopes = parse_token_file_scopes(parts[1]);
    if (!scopes) return fail(scopes.error());
    const auto digest = parse_digest(parts[2]);
    if (!digest) return fail("SHA256 must be 64 lowercase hex digits (sha256sum of the token)");
    for (const auto& entry : entries) {
      if (entry.principal->name == parts[0]) return fail(fmt::format("the name '{}' is used twice", parts[0]));
    }
    entries.push_back({*digest, std::make_shared<const Principal>(Principal{std::string{parts[0]}, *scopes})});
  }
  return entries;
}

boost::system::result<std::vector<TokenEntry>, std::string> read_token_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_token_file(*text, path);
}

}  // namespace users::auth
