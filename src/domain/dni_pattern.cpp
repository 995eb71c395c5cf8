#include "domain/dni_pattern.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/locale/utf.hpp>
#include <boost/regex.hpp>
#include <locale>
#include <optional>
#include <stdexcept>

namespace users::domain {
namespace {

using Utf8 = boost::locale::utf::utf_traits<char>;

static_assert(sizeof(wchar_t) == 4, "std::wstring holds UTF-32 (as on Linux)");

// UTF-32 of valid UTF-8; empty when `utf8` is ill-formed or holds more than
// `max_code_points` code points.
std::optional<std::wstring> to_utf32(std::string_view utf8, std::size_t max_code_points) {
  std::wstring out;
  out.reserve(std::min(utf8.size(), max_code_points));
  const char* p = utf8.data();
  const char* const end = p + utf8.size();
  while (p != end) {
    const auto c = Utf8::decode(p, end);
    if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) return std::nullopt;
    if (out.size() == max_code_points) return std::nullopt;
    out.push_back(static_cast<wchar_t>(c));
  }
  return out;
}

// Perl's `.` (and Python's, the reference's): any character but a newline,
// unless the pattern says (?s).
constexpr auto kMatchFlags = boost::regex_constants::match_not_dot_newline;

}  // namespace

struct DniPattern::Compiled {
  std::string text;
  boost::wregex regex;
};

boost::system::result<DniPattern, std::string> DniPattern::compile(std::string_view pattern) {
  auto wide = to_utf32(pattern, pattern.size());
  if (!wide) return std::string("it is not valid UTF-8");
  auto compiled = std::make_shared<Compiled>();
  compiled->text = std::string(pattern);
  // The classic locale whatever the process's: classes and case folding
  // stay ASCII, the same on every host.
  compiled->regex.imbue(std::locale::classic());
  try {
    compiled->regex.assign(*wide, boost::regex_constants::perl);
  } catch (const boost::regex_error& e) {
    // Boost's message goes on to quote the pattern with its non-ASCII
    // characters mangled; the first sentence and the position say it all.
    std::string_view what = e.what();
    what = what.substr(0, what.find("  The error occurred"));
    return fmt::format("{} (at character {})", what, e.position());
  }
  return DniPattern(std::move(compiled));
}

bool DniPattern::matches(std::string_view dni) const {
  const auto wide = to_utf32(dni, kMaxMatchedCodePoints);
  if (!wide) return false;
  try {
    return boost::regex_match(*wide, compiled_->regex, kMatchFlags);
  } catch (const std::runtime_error&) {
    // Boost.Regex's complexity or stack bound: the dni is not matched.
    return false;
  }
}

const std::string& DniPattern::text() const {
  return compiled_->text;
}

}  // namespace users::domain
