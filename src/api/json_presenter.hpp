// Renders an Outcome as DRF's JSON answer, with the headers every DRF view
// sends. Also the one place that turns an outcome into its JSON text, which
// the browsable pages show as they are.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/list_cache.hpp"
#include "api/list_streams.hpp"
#include "api/outcome.hpp"
#include "http/server.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct JsonContext {
  storage::UserStore& store;         // for the rest of a list too long to send whole
  std::size_t list_page_size;        // users per chunk of a streamed list
  std::string_view allow;            // the route's Allow header; empty for none
  ListStreams* streams = nullptr;    // where a list too long to send whole takes its place; null: no cap
  std::string_view if_none_match{};  // of a GET or HEAD, every line joined; empty: none
  ListCache* list_cache = nullptr;   // where a whole list's JSON is kept (UserListBody::cache_as)
};

http::Response present_json(Outcome outcome, const JsonContext& context);

// A problem's Retry-After and WWW-Authenticate, whichever it has.
void add_problem_headers(const Problem& problem, http::Message& message);

// The JSON body of an outcome that has one (empty otherwise).
std::string json_body(const Outcome& outcome);

// X-Frame-Options and the rest of Django's security middleware, on every
// answer the presenters make, as fixed lines (http::Response::fixed_headers).
inline constexpr std::string_view kSecurityHeaderLines =
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n";

// The Content-Security-Policy of every HTML page (the browsable pages and
// Swagger UI). Their scripts and styles are files under /api/docs/, so nothing
// inline may run or style: a name that smuggled markup into a page still could
// not act. Swagger UI's stylesheet draws its icons from data: URLs, hence
// img-src; connect-src lets it fetch /api/schema/ and try requests out.
inline constexpr std::string_view kHtmlContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// Adds the policy above (for a response whose body is an HTML page).
void add_html_headers(http::Message& message);

// A JSON answer (no Content-Type when `body` is empty), with Allow and Vary
// when `allow` is set.
http::Response json_response(Status status, std::string body, std::string_view allow);

}  // namespace users::api
