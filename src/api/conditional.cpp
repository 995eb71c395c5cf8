#include "api/conditional.hpp"

#include <algorithm>

namespace users::api {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// etagc = %x21 / %x23-7E / obs-text
bool is_etagc(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == 0x21 || (byte >= 0x23 && byte != 0x7F);
}

}  // namespace

EntityTags parse_entity_tags(std::string_view field) {
  EntityTags parsed;
  field = trim(field);
  if (field == "*") {
    parsed.any = true;
    return parsed;
  }
  // #entity-tag: elements separated by commas. A comma is also an etagc
  // (%x2C), so the list is scanned tag by tag rather than split at commas.
  std::size_t at = 0;
  while (at < field.size()) {
    while (at < field.size() && (is_space(field[at]) || field[at] == ',')) ++at;
    if (at == field.size()) break;
    bool weak = false;
    if (field.substr(at).starts_with("W/")) {
      weak = true;
      at += 2;
    }
    std::size_t end = at;
    bool valid = end < field.size() && field[end] == '"';
    if (valid) {
      ++end;
      while (end < field.size() && is_etagc(field[end])) ++end;
      valid = end < field.size() && field[end] == '"';
    }
    if (valid) {
      ++end;
      std::size_t next = end;
      while (next < field.size() && is_space(field[next])) ++next;
      valid = next == field.size() || field[next] == ',';
    }
    if (valid) {
      parsed.tags.push_back(EntityTag{std::string(field.substr(at + 1, end - at - 2)), weak});
      at = end;
      continue;
    }
    // Not an entity-tag: skip to the next comma; it matches nothing.
    const auto comma = field.find(',', at);
    at = comma == std::string_view::npos ? field.size() : comma + 1;
  }
  return parsed;
}

std::string field_list(const http::Request& request, boost::beast::http::field field) {
  std::string joined;
  const auto [first, last] = request.equal_range(field);
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) joined += ", ";
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

bool strong_match(const EntityTags& tags, std::string_view current) {
  return tags.any || std::any_of(tags.tags.begin(), tags.tags.end(),
                                 [current](const EntityTag& tag) { return !tag.weak && tag.opaque == current; });
}

bool weak_match(const EntityTags& tags, std::string_view current) {
  return tags.any || std::any_of(tags.tags.begin(), tags.tags.end(),
                                 [current](const EntityTag& tag) { return tag.opaque == current; });
}

domain::Precondition write_precondition(const EntityTags& if_match) {
  if (if_match.any) return domain::Precondition::any_user();
  std::vector<std::string> strong;
  for (const auto& tag : if_match.tags) {
    if (!tag.weak) strong.push_back(tag.opaque);
  }
  return domain::Precondition::one_of(std::move(strong));
}

std::string quoted_tag(std::string_view opaque) {
  std::string quoted;
  quoted.reserve(opaque.size() + 2);
  quoted += '"';
  quoted += opaque;
  quoted += '"';
  return quoted;
}

}  // namespace users::api
