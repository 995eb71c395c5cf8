// Reads a user from a request body as DRF's parsers would: JSON or form data,
// chosen by Content-Type, with DRF's errors for anything else.
#pragma once

#include <boost/beast/http/status.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "domain/validation.hpp"

namespace users::api {

struct BodyError {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string json;        // the response body, as DRF words it
  std::string message;     // its one message, for the browsable form
  bool non_field = false;  // {"non_field_errors":[message]} rather than {"detail":message}
};

// `content_type` is the header as sent (empty when absent).
boost::system::result<domain::UserInput, BodyError> parse_user_body(std::string_view content_type,
                                                                    std::string_view body);

// Exposed for tests: the JSON and form readers on their own.
boost::system::result<domain::UserInput, BodyError> parse_json_user(std::string_view body);
domain::UserInput parse_form_user(std::string_view body);

}  // namespace users::api
