// JSON string literals, written the way DRF's renderer writes them: UTF-8 as
// is, control characters, quotes and backslashes escaped, and U+2028/U+2029
// escaped too (so the text is also valid JavaScript).
#pragma once

#include <string>
#include <string_view>

namespace users::common {

// Appends `utf8` (valid UTF-8) as a quoted JSON string.
void append_json_string(std::string& out, std::string_view utf8);

// Appends `utf8` (valid UTF-8) quoted as Python's json.dumps(ensure_ascii=False)
// writes it, as Django's dumpdata does: the same, but U+2028/U+2029 as they are.
void append_python_json_string(std::string& out, std::string_view utf8);

}  // namespace users::common
