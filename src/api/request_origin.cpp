#include "api/request_origin.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include "api/list_text.hpp"

namespace users::api {
namespace {

bool from_trusted_proxy(std::string_view peer, const TrustedProxies& trusted) {
  if (trusted.empty()) return false;
  const auto address = peer_address(peer);
  return address && trusted.contains(*address);
}

std::string_view header(const http::Request& request, std::string_view name) {
  const auto value = request[name];
  return {value.data(), value.size()};
}

// The first entry of a comma-separated header (what the outermost proxy saw).
std::string_view first_entry(std::string_view value) {
  return trim_blanks(value.substr(0, value.find(',')));
}

}  // namespace

std::string_view request_scheme(const http::Request& request, std::string_view peer, const TrustedProxies& trusted) {
  if (!from_trusted_proxy(peer, trusted)) return "http";
  return first_entry(header(request, "X-Forwarded-Proto")) == "https" ? "https" : "http";
}

std::optional<std::string> request_origin(const http::Request& request, std::string_view peer,
                                          const TrustedProxies& trusted, std::string_view default_host) {
  std::string_view host;
  if (from_trusted_proxy(peer, trusted)) host = first_entry(header(request, "X-Forwarded-Host"));
  if (host.empty()) host = header(request, "Host");
  if (host.empty()) host = default_host;
  const auto authority = boost::urls::parse_authority(host);
  if (!authority || authority->has_userinfo()) return std::nullopt;
  return fmt::format("{}://{}", request_scheme(request, peer, trusted), host);
}

}  // namespace users::api
