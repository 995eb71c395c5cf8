// Who may ask what, checked before a route's handler runs: the Host
// (ALLOWED_HOSTS), browsers' preflights and cross-site forms (CORS), the
// credentials and their scopes (AUTH_MODE), and the rates (THROTTLE_*). With
// every setting at its default, nothing here refuses anything: the API is the
// reference's open one.
//
// The order is DRF's: authentication, then permissions (scopes), then
// throttles, except that a request without valid credentials is throttled by
// its address before it hears 401, so guessing tokens costs a guesser its
// rate like anyone else.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/allowed_hosts.hpp"
#include "api/client_address.hpp"
#include "api/cors.hpp"
#include "api/outcome.hpp"
#include "api/routes.hpp"
#include "api/throttle.hpp"
#include "auth/authenticator.hpp"
#include "http/server.hpp"

namespace users::api {

struct AccessOptions {
  // Null: AUTH_MODE=none, every API route open. Not owned.
  auth::Authenticator* authenticator = nullptr;
  TrustedProxies trusted_proxies;
  std::optional<AllowedHosts> allowed_hosts;  // nullopt: "*" (Django's host syntax is still checked by the root)
  cors::AllowedOrigins origins;
  std::shared_ptr<Throttle> principal_throttle;  // THROTTLE_RATE; null: off
  std::shared_ptr<Throttle> anonymous_throttle;  // THROTTLE_ANON_RATE; null: off
  // AUTH_MODE=jwt: credentials that do not verify get simplejwt's body.
  bool simplejwt_answers = false;
};

// What the checks decided about one request.
struct Admission {
  std::optional<Problem> refusal;                    // answered instead of the route
  std::optional<cors::PreflightAnswer> preflight;    // a browser's preflight, answered here
  std::shared_ptr<const auth::Principal> principal;  // null: anonymous
  std::string client;                                // the address the request is attributed to
};

class AccessControl {
 public:
  explicit AccessControl(AccessOptions options) : options_(std::move(options)) {}

  [[nodiscard]] Admission admit(const Route& route, const http::Request& request, http::RequestInfo info) const;

  // The proxies whose forwarded headers count (the client's address, scheme
  // and host).
  [[nodiscard]] const TrustedProxies& trusted_proxies() const { return options_.trusted_proxies; }

  // CORS headers for the response of an API route (none when CORS is off).
  void add_cors_headers(const Route& route, const http::Request& request, http::Message& message) const;

 private:
  [[nodiscard]] std::optional<Problem> authorize(const http::Request& request, std::string_view peer,
                                                 Admission& admission) const;

  AccessOptions options_;
};

// Whether a route is one of the API's own (the root and the users): the
// routes credentials, scopes, throttles and CORS apply to.
bool is_guarded(RouteKind kind);

}  // namespace users::api
