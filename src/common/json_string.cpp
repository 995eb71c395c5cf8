#include "common/json_string.hpp"

#include <algorithm>
#include <array>
#include <boost/json/serializer.hpp>

namespace users::common {
namespace {

// True when the text can go between quotes unchanged.
bool needs_no_escaping(std::string_view text) {
  return std::ranges::none_of(text, [](const char c) {
    const auto byte = static_cast<unsigned char>(c);
    // 0xE2 starts U+2028/U+2029; rare enough to send such text through the
    // slow path whole.
    return byte < 0x20 || c == '"' || c == '\\' || byte == 0xE2;
  });
}

void escape_line_separators(std::string& out, std::size_t from) {
  static constexpr std::string_view kLineSeparator = "\xE2\x80\xA8";
  static constexpr std::string_view kParagraphSeparator = "\xE2\x80\xA9";
  for (std::size_t at = out.find('\xE2', from); at != std::string::npos; at = out.find('\xE2', at + 1)) {
    const std::string_view rest(out.data() + at, out.size() - at);
    if (rest.starts_with(kLineSeparator))
      out.replace(at, 3, "\\u2028");
    else if (rest.starts_with(kParagraphSeparator))
      out.replace(at, 3, "\\u2029");
  }
}

// Boost.JSON escapes exactly what Python's json does: quote, backslash,
// \b \f \n \r \t, and other control characters as lower-case \u00xx.
void append_serialized(std::string& out, std::string_view utf8) {
  boost::json::serializer serializer;
  serializer.reset(utf8);
  std::array<char, 512> buffer{};
  while (!serializer.done()) out += serializer.read(buffer.data(), buffer.size());
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
  append_serialized(out, utf8);
  escape_line_separators(out, start);
}

void append_python_json_string(std::string& out, std::string_view utf8) {
  if (needs_no_escaping(utf8)) {
    out += '"';
    out += utf8;
    out += '"';
    return;
  }
  append_serialized(out, utf8);
}

}  // namespace users::common
