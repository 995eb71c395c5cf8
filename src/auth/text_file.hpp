#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace users::auth {

// A whole file (a tokens file, a JWKS); the error names the file and why.
// (Both sides are strings: build it with in_place_value / in_place_error.)
boost::system::result<std::string, std::string> read_text_file(const std::string& path);

}  // namespace users::auth
