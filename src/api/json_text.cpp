#include "api/json_text.hpp"

#include <array>
#include <charconv>

#include "common/json_string.hpp"

namespace users::api {
void append_json_string(std::string& out, std::string_view utf8) {
  common::append_json_string(out, utf8);
}

void append_user(std::string& out, const domain::User& user) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), user.id);
  out += R"({"id":)";
  out.append(digits.data(), end);
  out += R"(,"dni":)";
  append_json_string(out, user.dni);
  out += R"(,"name":)";
  append_json_string(out, user.name);
  out += '}';
}

std::string user_json(const domain::User& user) {
  std::string out;
  out.reserve(32 + user.dni.size() + user.name.size());
  append_user(out, user);
  return out;
}

std::string detail_json(std::string_view detail) {
  std::string out = R"({"detail":)";
  append_json_string(out, detail);
  out += '}';
  return out;
}

namespace {
void append_messages(std::string& out, std::string_view key, const std::vector<std::string_view>& messages) {
  append_json_string(out, key);
  out += ":[";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, messages[i]);
  }
  out += ']';
}
}  // namespace

std::string field_errors_json(const domain::FieldErrors& errors) {
  std::string out = "{";
  if (!errors.dni.empty()) append_messages(out, "dni", errors.dni);
  if (!errors.name.empty()) {
    if (!errors.dni.empty()) out += ',';
    append_messages(out, "name", errors.name);
  }
  out += '}';
  return out;
}

std::string_view token_not_valid_json() {
  return R"({"detail":"Given token not valid for any token type","code":"token_not_valid",)"
         R"("messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]})";
}

std::string non_field_errors_json(std::string_view message) {
  std::string out = "{";
  append_messages(out, "non_field_errors", {message});
  out += '}';
  return out;
}

}  // namespace users::api
