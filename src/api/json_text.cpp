#include "api/json_text.hpp"

#include <array>
#include <boost/json/serializer.hpp>
#include <charconv>

namespace users::api {
namespace {

// True when the text can go between quotes unchanged.
bool needs_no_escaping(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    // 0xE2 starts U+2028/U+2029, which DRF escapes; rare enough to send the
    // whole string through the slow path.
    if (byte < 0x20 || c == '"' || c == '\\' || byte == 0xE2) return false;
  }
  return true;
}

void escape_line_separators(std::string& out, std::size_t from) {
  static constexpr std::string_view kLineSeparator = "\xE2\x80\xA8";
  static constexpr std::string_view kParagraphSeparator = "\xE2\x80\xA9";
  for (std::size_t at = out.find('\xE2', from); at != std::string::npos; at = out.find('\xE2', at + 1)) {
    const std::string_view rest(out.data() + at, out.size() - at);
    if (rest.starts_with(kLineSeparator)) out.replace(at, 3, "\\u2028");
    else if (rest.starts_with(kParagraphSeparator)) out.replace(at, 3, "\\u2029");
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view utf8) {
  if (needs_no_escaping(utf8)) {
    out += '"';
    out += utf8;
    out += '"';
    return;
  }
  const auto start = out.size();
  boost::json::serializer serializer;
  serializer.reset(utf8);
  std::array<char, 512> buffer{};
  while (!serializer.done()) out += serializer.read(buffer.data(), buffer.size());
  escape_line_separators(out, start);
}

void append_user(std::string& out, const domain::User& user) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), user.id);
  out += R"({"id":)";
  out.append(digits.data(), end);
  out += R"(,"dni":)";
  append_json_string(out, user.dni);
  out += R"(,"name":)";
  append_json_string(out, user.name);
  out += '}';
}

std::string user_json(const domain::User& user) {
  std::string out;
  out.reserve(32 + user.dni.size() + user.name.size());
  append_user(out, user);
  return out;
}

std::string detail_json(std::string_view detail) {
  std::string out = R"({"detail":)";
  append_json_string(out, detail);
  out += '}';
  return out;
}

namespace {
void append_messages(std::string& out, std::string_view key, const std::vector<std::string_view>& messages) {
  append_json_string(out, key);
  out += ":[";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, messages[i]);
  }
  out += ']';
}
}  // namespace

std::string field_errors_json(const domain::FieldErrors& errors) {
  std::string out = "{";
  if (!errors.dni.empty()) append_messages(out, "dni", errors.dni);
  if (!errors.name.empty()) {
    if (!errors.dni.empty()) out += ',';
    append_messages(out, "name", errors.name);
  }
  out += '}';
  return out;
}

std::string non_field_errors_json(std::string_view message) {
  std::string out = "{";
  append_messages(out, "non_field_errors", {message});
  out += '}';
  return out;
}

}  // namespace users::api
