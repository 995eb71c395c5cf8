#include "auth/text_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace users::auth {

boost::system::result<std::string, std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {boost::system::in_place_error, fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return {boost::system::in_place_error, fmt::format("{}: cannot read", path)};
  return {boost::system::in_place_value, text.str()};
}

}  // namespace users::auth
