// Writing the API's JSON: users and error bodies, compact, keys in DRF's
// order, UTF-8 as is, and U+2028/U+2029 escaped as DRF's renderer does.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "domain/user.hpp"
#include "domain/validation.hpp"

namespace users::api {

void append_json_string(std::string& out, std::string_view utf8);
void append_user(std::string& out, const domain::User& user);
std::string user_json(const domain::User& user);

// {"detail":"..."}
std::string detail_json(std::string_view detail);
// {"dni":[...],"name":[...]}, only the fields with errors.
std::string field_errors_json(const domain::FieldErrors& errors);
// {"non_field_errors":["..."]}
std::string non_field_errors_json(std::string_view message);
// djangorestframework-simplejwt's answer to an access token that does not
// verify (whatever the reason: the client is not told which check failed).
std::string_view token_not_valid_json();

}  // namespace users::api
