// Renders an Outcome as DRF's JSON answer, with the headers every DRF view
// sends. Also the one place that turns an outcome into its JSON text, which
// the browsable pages show as they are.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/outcome.hpp"
#include "http/server.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct JsonContext {
  storage::UserStore& store;   // for the rest of a list too long to send whole
  std::size_t list_page_size;  // users per chunk of a streamed list
  std::string_view allow;      // the route's Allow header; empty for none
};

http::Response present_json(Outcome outcome, const JsonContext& context);

// The JSON body of an outcome that has one (empty otherwise).
std::string json_body(const Outcome& outcome);

// X-Frame-Options and the rest of Django's security middleware.
void add_security_headers(http::Message& message);

// A JSON answer (no Content-Type when `body` is empty), with Allow and Vary
// when `allow` is set.
http::Response json_response(Status status, std::string body, std::string_view allow);

}  // namespace users::api
