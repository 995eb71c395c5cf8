#include "domain/text.hpp"

#include <algorithm>
#include <array>
#include <boost/locale/utf.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace users::domain::text {
namespace {

using Utf8 = boost::locale::utf::utf_traits<char>;
using boost::locale::utf::code_point;

// Py_UNICODE_ISSPACE: the code points str.strip() removes.
bool is_python_space(code_point c) {
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

// Start of the UTF-8 sequence that ends just before `end`.
const char* previous_code_point(const char* begin, const char* end) {
  const char* p = end - 1;
  while (p > begin && (static_cast<unsigned char>(*p) & 0xC0U) == 0x80U) --p;
  return p;
}

// The zeros of Unicode's decimal digit (Nd) runs; each run is zero..zero+9.
// Python's int() accepts any of them ("７" is 7), and so Django's path ids.
constexpr code_point kDecimalZeros[] = {
    0x0030,  0x0660,  0x06F0,  0x07C0,  0x0966,  0x09E6,  0x0A66,  0x0AE6,  0x0B66,  0x0BE6,  0x0C66,  0x0CE6,
    0x0D66,  0x0DE6,  0x0E50,  0x0ED0,  0x0F20,  0x1040,  0x1090,  0x17E0,  0x1810,  0x1946,  0x19D0,  0x1A80,
    0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,  0xA8D0,  0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,
    0xFF10,  0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8,
    0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950, 0x1FBF0};

// The digit's value, or -1 when `c` is not a decimal digit.
int decimal_value(code_point c) {
  for (const code_point zero : kDecimalZeros) {
    if (c >= zero && c <= zero + 9) return static_cast<int>(c - zero);
  }
  return -1;
}

}  // namespace

std::string_view python_strip(std::string_view utf8) {
  const char* first = utf8.data();
  const char* last = first + utf8.size();
  while (first != last) {
    const char* next = first;
    if (!is_python_space(Utf8::decode(next, last))) break;
    first = next;
  }
  while (last != first) {
    const char* start = previous_code_point(first, last);
    const char* probe = start;
    if (!is_python_space(Utf8::decode(probe, last))) break;
    last = start;
  }
  return {first, static_cast<std::size_t>(last - first)};
}

std::vector<std::string_view> python_split(std::string_view utf8) {
  std::vector<std::string_view> words;
  const char* cursor = utf8.data();
  const char* const last = cursor + utf8.size();
  const char* word = nullptr;
  while (cursor != last) {
    const char* next = cursor;
    const bool space = is_python_space(Utf8::decode(next, last));
    if (space && word != nullptr) {
      words.emplace_back(word, static_cast<std::size_t>(cursor - word));
      word = nullptr;
    } else if (!space && word == nullptr) {
      word = cursor;
    }
    cursor = next;
  }
  if (word != nullptr) words.emplace_back(word, static_cast<std::size_t>(last - word));
  return words;
}

std::size_t count_code_points(std::string_view utf8) {
  std::size_t count = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++count;
  }
  return count;
}

std::string python_float_text(double value) {
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (std::isnan(value)) return "nan";

  // Shortest round-trip digits in scientific form, e.g. "-1.2345e+16".
  std::array<char, 64> buffer{};
  const auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  const std::string_view scientific(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  const auto e_pos = scientific.find('e');
  std::string_view mantissa = scientific.substr(0, e_pos);
  int exponent = 0;
  const auto exponent_text = scientific.substr(e_pos + 1);
  std::from_chars(exponent_text.data() + (exponent_text.front() == '+' ? 1 : 0),
                  exponent_text.data() + exponent_text.size(), exponent);

  std::string result;
  if (mantissa.front() == '-') {
    result.push_back('-');
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }

  if (exponent >= -4 && exponent < 16) {
    // Positional notation, always with a fractional part ("100000.0").
    if (exponent < 0) {
      result += "0.";
      result.append(static_cast<std::size_t>(-exponent - 1), '0');
      result += digits;
    } else {
      const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= integer_digits) {
        result += digits;
        result.append(integer_digits - digits.size(), '0');
        result += ".0";
      } else {
        result += digits.substr(0, integer_digits);
        result += '.';
        result += digits.substr(integer_digits);
      }
    }
    return result;
  }

  // Scientific notation: "1e+16", "1.5e-07" (at least two exponent digits).
  result += digits.front();
  if (digits.size() > 1) {
    result += '.';
    result += digits.substr(1);
  }
  result += exponent < 0 ? "e-" : "e+";
  const int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) result += '0';
  result += std::to_string(magnitude);
  return result;
}

std::string python_int_text(std::string_view json_integer_literal) {
  if (json_integer_literal == "-0") return "0";
  return std::string(json_integer_literal);
}

std::optional<std::int64_t> parse_python_int(std::string_view text) {
  text = python_strip(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;

  // Accumulate as a negative number so that INT64_MIN fits.
  std::int64_t value = 0;
  bool previous_was_digit = false;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    const code_point c = Utf8::decode(p, end);
    if (c == '_') {
      if (!previous_was_digit) return std::nullopt;
      previous_was_digit = false;
      continue;
    }
    const int digit = decimal_value(c);
    if (digit < 0) return std::nullopt;
    if (value < (std::numeric_limits<std::int64_t>::min() + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
    previous_was_digit = true;
  }
  if (!previous_was_digit) return std::nullopt;
  if (!negative) {
    if (value == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
    value = -value;
  }
  return value;
}

std::string repair_utf8(std::string_view bytes) {
  static constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(bytes.size());
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  // Valid text is copied in runs, up to each invalid byte: appending it a code
  // point at a time, and decoding ASCII too, cost about 140 instructions a
  // code point, and a form value can be 1 MiB.
  const char* run = p;
  while (p != end) {
    p = std::find_if(p, end, [](char byte) { return static_cast<unsigned char>(byte) >= 0x80; });
    if (p == end) break;
    const char* start = p;
    const code_point c = Utf8::decode(p, end);
    if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) {
      out.append(run, start);
      out.append(kReplacementCharacter);
      p = start + 1;
      run = p;
    }
  }
  out.append(run, end);
  return out;
}

// Written as they came, bytes past 0x7F made the JSON body invalid UTF-8
// (found by tests/fuzz, in a media type and later in a CSRF Origin).
std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80U) {
      out += c;
    } else {
      out += static_cast<char>(0xC0U | (byte >> 6U));
      out += static_cast<char>(0x80U | (byte & 0x3FU));
    }
  }
  return out;
}

}  // namespace users::domain::text
