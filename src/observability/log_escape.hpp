// Values for a log line that every reader can trust: whatever bytes a client
// sent, the line stays one line of valid UTF-8 (valid JSON in the JSON
// format), and nothing in it can reorder or hide text on a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace users::observability {

// Appends `bytes` as a quoted JSON string: ill-formed UTF-8 becomes \ufffd;
// C0 and C1 controls, DEL, the bidirectional and invisible formatting
// characters (U+202E and its kin, U+200B..U+200F, U+2060..U+2069, U+FEFF) and
// U+2028/U+2029 are written as \uXXXX escapes. Only the first `max_bytes` of
// `bytes` are taken (cut at a character boundary); returns true when it cut.
bool append_log_string(std::string& out, std::string_view bytes, std::size_t max_bytes);

// Appends serialized JSON (a number, a bool, an object...) with the same
// repairs and escapes; JSON's own syntax is left as it is.
void append_log_json(std::string& out, std::string_view json);

// True when the text format can write `bytes` bare: printable ASCII without
// quotes, backslashes, '=' or spaces.
[[nodiscard]] bool is_bare_log_text(std::string_view bytes);

}  // namespace users::observability
