// The body parsers on their own: the input's first line is the Content-Type
// (empty: none), the rest the body. parse_user_body picks the JSON or the form
// reader as DRF does; both readers also get the body directly, and what they
// read goes through validation in each write mode. Every refusal's body must
// be JSON (it is sent as it is), and a form reader never fails.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "api/request_body.hpp"
#include "domain/validation.hpp"

namespace {

void check_json(std::string_view what, std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  if (ec) {
    std::fprintf(stderr, "request_body_fuzz: %.*s is not JSON: %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(text.size()), text.data());
    std::abort();
  }
}

void exercise(const users::domain::UserInput& input) {
  for (const auto mode :
       {users::domain::WriteMode::kCreate, users::domain::WriteMode::kReplace, users::domain::WriteMode::kPatch}) {
    const auto outcome = users::domain::validate(input, mode);
    // A field that passed is set only when no error names it.
    if (outcome.changes.dni && !outcome.errors.dni.empty()) std::abort();
    if (outcome.changes.name && !outcome.errors.name.empty()) std::abort();
  }
  (void)users::domain::dni_as_sent(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view content_type =
      newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);

  if (auto parsed = users::api::parse_user_body(content_type, body)) {
    exercise(*parsed);
  } else {
    check_json("parse_user_body's error", parsed.error().json);
  }
  if (auto parsed = users::api::parse_json_user(body)) {
    exercise(*parsed);
  } else {
    check_json("parse_json_user's error", parsed.error().json);
  }
  exercise(users::api::parse_form_user(body));
  return 0;
}
