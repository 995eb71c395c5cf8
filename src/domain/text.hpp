// Text rules the reference inherits from Python, reproduced so that users-api
// answers byte for byte as it did: what str.strip() removes, how len() counts,
// how str() writes a float, and how int() reads a path segment.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace users::domain::text {

// str.strip(): removes leading and trailing Unicode white space, as Python
// defines it (which includes U+00A0, U+3000 and U+001C..U+001F).
// `utf8` must be valid UTF-8.
std::string_view python_strip(std::string_view utf8);

// str.split() without arguments: the words between runs of Unicode white
// space (as python_strip defines it), none for blank text. Views into `utf8`,
// which must be valid UTF-8.
std::vector<std::string_view> python_split(std::string_view utf8);

// len(): the number of Unicode code points of valid UTF-8 text.
std::size_t count_code_points(std::string_view utf8);

// str(float): Python's shortest round-trip repr ("1.0", "1e+16", "inf").
std::string python_float_text(double value);

// str(int) of a JSON integer literal: the digits as written, "-0" as "0".
std::string python_int_text(std::string_view json_integer_literal);

// int(s) as Django applies it to a path value: surrounding white space, a sign,
// and underscores between digits are accepted ("01" is 1, "1_0" is 10).
// Empty when the text is not an integer or does not fit 64 bits.
std::optional<std::int64_t> parse_python_int(std::string_view text);

// Replaces every ill-formed UTF-8 sequence with U+FFFD, as Python decodes form
// data with errors="replace".
std::string repair_utf8(std::string_view bytes);

// A header as Django hands it to DRF: WSGI decodes header bytes as
// ISO-8859-1 (PEP 3333), one code point each, so a message that quotes a
// header is valid UTF-8 whatever the client sent.
std::string latin1_to_utf8(std::string_view bytes);

}  // namespace users::domain::text
