#include "observability/log_escape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/locale/utf.hpp>
#include <iterator>

namespace users::observability {
namespace {

using Utf8 = boost::locale::utf::utf_traits<char>;
using boost::locale::utf::code_point;

// Characters that change how the text around them is shown (Trojan Source,
// CVE-2021-42574) or are invisible, so a log reader would not see them.
bool is_format_control(code_point c) {
  return c == 0x061C || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x2069) ||
         c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB);
}

bool needs_escape(code_point c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || is_format_control(c);
}

void append_escape(std::string& out, code_point c) {
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
  }
}

// Copies `text` with the repairs and escapes; in a string, quotes and
// backslashes are escaped too. Stops before the character that would take the
// input past `max_bytes`; returns true when it stopped early.
bool append_escaped(std::string& out, std::string_view text, std::size_t max_bytes, bool in_string) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin;
  while (p != end) {
    const char* const start = p;
    const code_point c = Utf8::decode(p, end);
    const bool ill_formed = c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete;
    if (ill_formed) p = start + 1;  // one replacement per bad byte, as Python's errors="replace"
    if (static_cast<std::size_t>(p - begin) > max_bytes) return true;
    if (ill_formed) {
      out += "\\ufffd";
    } else if (in_string && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (needs_escape(c)) {
      append_escape(out, c);
    } else {
      out.append(start, p);
    }
  }
  return false;
}

bool is_plain_ascii(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7F && c != '"' && c != '\\';
  });
}

}  // namespace

bool append_log_string(std::string& out, std::string_view bytes, std::size_t max_bytes) {
  out += '"';
  bool cut = false;
  if (bytes.size() <= max_bytes && is_plain_ascii(bytes)) {
    out += bytes;
  } else {
    cut = append_escaped(out, bytes, max_bytes, true);
  }
  out += '"';
  return cut;
}

void append_log_json(std::string& out, std::string_view json) {
  if (std::all_of(json.begin(), json.end(), [](char c) { return static_cast<unsigned char>(c) < 0x7F; })) {
    out += json;  // the serializer already escaped C0 controls
    return;
  }
  append_escaped(out, json, json.size(), false);
}

bool is_bare_log_text(std::string_view bytes) {
  return !bytes.empty() && is_plain_ascii(bytes) && bytes.find_first_of(" =") == std::string_view::npos;
}

}  // namespace users::observability
