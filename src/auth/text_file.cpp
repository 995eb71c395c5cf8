#include "auth/text_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace users::auth {

boost::system::result<std::string, std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return {boost::system::in_place_error,
            fmt::format("{}: cannot open: {}", path, std::error_code(errno, std::generic_category()).message())};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return {boost::system::in_place_error, fmt::format("{}: cannot read", path)};
  return {boost::system::in_place_value, text.str()};
}

}  // namespace users::auth
