// Comma-separated lists, as settings (ALLOWED_HOSTS, TRUSTED_PROXIES,
// CORS_ALLOWED_ORIGINS) and headers (X-Forwarded-For,
// Access-Control-Request-Headers) write them: RFC 9110 §5.6.1, blanks around
// an element and empty elements ignored. And ASCII case folding, for the
// names such lists hold (hosts, schemes, header names).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace users::api {

inline std::string_view trim_blanks(std::string_view text) {
  constexpr std::string_view kBlanks = " \t";
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

inline std::string ascii_lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Calls `visit` with each non-empty element, trimmed; a `visit` that returns
// bool stops the walk by returning false.
template <typename Visit>
void for_each_list_element(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim_blanks(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (element.empty()) continue;
    if constexpr (std::is_same_v<std::invoke_result_t<Visit&, std::string_view>, bool>) {
      if (!visit(element)) return;
    } else {
      visit(element);
    }
  }
}

}  // namespace users::api
