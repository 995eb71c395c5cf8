// Browsers calling from other sites: CORS_ALLOWED_ORIGINS, the answers the
// Fetch standard expects (preflights, the headers of actual responses), and
// the cross-site form guard that Django's CSRF origin check gives DRF's
// session-authenticated views. Decisions are values; users_api.cpp renders
// them.
#pragma once

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace users::api::cors {

struct Header {
  std::string_view name;
  std::string value;
};
using Headers = std::vector<Header>;

// The request headers a preflight may ask for: the ones this API reads.
inline constexpr std::string_view kAllowedRequestHeaders[] = {"authorization", "content-type", "if-match",
                                                              "if-none-match", "x-request-id"};
// The response headers a page's script may read besides the CORS-safelisted ones.
inline constexpr std::string_view kExposedHeaders = "ETag, Retry-After, X-Request-ID, WWW-Authenticate";
// How long a browser may reuse a preflight: Chromium's own cap (2 h); longer
// is cut to it.
inline constexpr std::string_view kMaxAgeSeconds = "7200";

// An origin as a browser serializes it: "scheme://host[:port]", lowercase, the
// scheme's default port dropped; nullopt for anything else (a path, a query,
// userinfo, a scheme other than http and https, "null").
std::optional<std::string> normalize_origin(std::string_view origin);

class AllowedOrigins {
 public:
  AllowedOrigins() = default;  // none: CORS off, every answer as without it

  // The comma-separated setting: exact origins ("https://app.example.com",
  // "http://localhost:3000"), or "*" alone. `authentication` (AUTH_MODE is not
  // none) refuses "*": any site could then drive a user's credentials. A path
  // (even "/") is an error, as django-cors-headers makes it.
  static boost::system::result<AllowedOrigins, std::string> parse(std::string_view setting, bool authentication);

  [[nodiscard]] bool enabled() const { return any_ || !origins_.empty(); }
  [[nodiscard]] bool any() const { return any_; }
  [[nodiscard]] bool allows(std::string_view origin) const;

 private:
  std::vector<std::string> origins_;  // normalized
  bool any_ = false;
};

struct PreflightRequest {
  std::string_view method;           // the request's own method
  std::string_view origin;           // Origin; empty when absent
  std::string_view request_method;   // Access-Control-Request-Method; empty when absent
  std::string_view request_headers;  // Access-Control-Request-Headers; empty when absent
};

struct PreflightAnswer {
  unsigned status = 204;
  Headers headers;  // Vary: Origin, plus the Access-Control-* ones when the origin is allowed
};

// nullopt when CORS is off or the request is no preflight (OPTIONS with Origin
// and Access-Control-Request-Method): it is then answered as any OPTIONS. A
// preflight is always answered here, with no body, as django-cors-headers
// does; the Access-Control-* headers only for an allowed origin (the browser
// then fails the preflight itself). `allow` is the route's Allow value.
std::optional<PreflightAnswer> answer_preflight(const AllowedOrigins& origins, std::string_view allow,
                                                const PreflightRequest& request);

// The headers an actual (non-preflight) response gets: none when CORS is off;
// Vary: Origin always else (the answer depends on Origin), with
// Access-Control-Allow-Origin and Access-Control-Expose-Headers when `origin`
// (empty when absent) is allowed.
Headers response_headers(const AllowedOrigins& origins, std::string_view origin);

struct FormRequest {
  std::string_view method;
  std::string_view content_type;    // as sent; empty when absent
  std::string_view origin;          // empty when absent
  std::string_view sec_fetch_site;  // empty when absent
  std::string_view host;            // the Host header
  std::string_view scheme;          // how the request reached the server: "http" or "https"
};

// Whether a write with a form content type (what an HTML form on another site
// can send without a preflight) comes from somewhere it may not. The refusal is
// Django's CSRF message, for a 403:
// - with an Origin that is neither this server's own (scheme://Host) nor an
//   allowed one, or that is its own while Sec-Fetch-Site says cross-site:
//   "CSRF Failed: Origin checking failed - ORIGIN does not match any trusted origins.";
// - with no Origin and Sec-Fetch-Site: cross-site: "CSRF Failed: Cross-site request refused.".
// An allowed origin is trusted even though it is cross-site (it is what
// Django's CSRF_TRUSTED_ORIGINS is for); a request without Origin or
// Sec-Fetch-Site (curl, a server) is no browser's and passes.
std::optional<std::string> refuse_cross_site_form(const AllowedOrigins& origins, const FormRequest& request);

}  // namespace users::api::cors
