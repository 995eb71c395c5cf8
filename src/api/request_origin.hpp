// Where a client believes it is talking to: the scheme and host DRF's
// request.build_absolute_uri() puts in the links it writes (the API root,
// a page's next and previous). Behind a proxy, X-Forwarded-Proto and
// X-Forwarded-Host count only when the peer is one of TRUSTED_PROXIES
// (Django's SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_HOST, tied to them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/client_address.hpp"
#include "http/server.hpp"

namespace users::api {

// "https" when a trusted proxy says the client came over TLS, else "http".
std::string_view request_scheme(const http::Request& request, std::string_view peer, const TrustedProxies& trusted);

// "scheme://host" (the Host header, or `default_host` without one); nullopt
// when the host is not a valid authority (Django's "Invalid host header.").
std::optional<std::string> request_origin(const http::Request& request, std::string_view peer,
                                          const TrustedProxies& trusted, std::string_view default_host);

}  // namespace users::api
