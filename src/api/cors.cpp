#include "api/cors.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/url/host_type.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "api/list_text.hpp"
#include "domain/text.hpp"

namespace users::api::cors {
namespace urls = boost::urls;
namespace beast = boost::beast;

namespace {

bool is_unsafe(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The three types an HTML form (or a no-cors fetch) may send without a
// preflight; parameters such as charset or boundary do not matter.
bool is_form_type(std::string_view content_type) {
  const auto type = trim_blanks(content_type.substr(0, content_type.find(';')));
  return beast::iequals(type, "application/x-www-form-urlencoded") || beast::iequals(type, "multipart/form-data") ||
         beast::iequals(type, "text/plain");
}

std::string origin_failed(std::string_view origin) {
  return fmt::format("CSRF Failed: Origin checking failed - {} does not match any trusted origins.",
                     domain::text::latin1_to_utf8(origin));
}

}  // namespace

std::optional<std::string> normalize_origin(std::string_view origin) {
  const auto url = urls::parse_absolute_uri(origin);
  if (!url) return std::nullopt;
  const auto scheme = url->scheme_id();
  if (scheme != urls::scheme::http && scheme != urls::scheme::https) return std::nullopt;
  if (!url->has_authority() || url->has_userinfo() || url->encoded_host().empty()) return std::nullopt;
  if (url->host_type() == urls::host_type::ipvfuture) return std::nullopt;
  if (!url->encoded_path().empty() || url->has_query() || url->has_fragment()) return std::nullopt;
  std::string out =
      fmt::format("{}://{}", scheme == urls::scheme::http ? "http" : "https", ascii_lowercase(url->encoded_host()));
  if (url->has_port()) {
    // (port_number() wraps past 65535, so the digits are read here.)
    const std::string_view digits = url->port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || port == 0 || port > 65535) return std::nullopt;
    if (port != urls::default_port(scheme)) out += fmt::format(":{}", port);
  }
  return out;
}

boost::system::result<AllowedOrigins, std::string> AllowedOrigins::parse(std::string_view setting,
                                                                         bool authentication) {
  AllowedOrigins origins;
  std::optional<std::string> error;
  for_each_list_element(setting, [&](std::string_view entry) {
    if (error) return;
    if (entry == "*") {
      origins.any_ = true;
      if (authentication) error = std::string("\"*\" is refused while authentication is on: list the origins");
      return;
    }
    auto normalized = normalize_origin(entry);
    if (!normalized) {
      const auto url = urls::parse_absolute_uri(entry);
      error =
          url && !url->encoded_path().empty()
              ? fmt::format("\"{}\" has a path: an origin is scheme://host[:port]", entry)
              : fmt::format("\"{}\" is not an origin such as https://app.example.com or http://localhost:3000", entry);
      return;
    }
    origins.origins_.push_back(std::move(*normalized));
  });
  if (error) return *error;
  if (origins.any_ && !origins.origins_.empty()) return std::string("\"*\" goes alone, not with other origins");
  return origins;
}

bool AllowedOrigins::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  const auto normalized = normalize_origin(origin);
  return normalized && std::find(origins_.begin(), origins_.end(), *normalized) != origins_.end();
}

std::optional<PreflightAnswer> answer_preflight(const AllowedOrigins& origins, std::string_view allow,
                                                const PreflightRequest& request) {
  if (!origins.enabled() || request.method != "OPTIONS" || request.origin.empty() || request.request_method.empty()) {
    return std::nullopt;
  }
  PreflightAnswer answer;
  answer.headers.push_back({"Vary", "Origin"});
  if (!origins.allows(request.origin)) return answer;
  answer.headers.push_back({"Access-Control-Allow-Origin", origins.any() ? "*" : std::string(request.origin)});
  answer.headers.push_back({"Access-Control-Allow-Methods", std::string(allow)});
  std::string headers;
  for_each_list_element(request.request_headers, [&](std::string_view name) {
    const auto lower = ascii_lowercase(name);
    if (std::find(std::begin(kAllowedRequestHeaders), std::end(kAllowedRequestHeaders), lower) ==
        std::end(kAllowedRequestHeaders)) {
      return;
    }
    if (!headers.empty()) headers += ", ";
    headers += lower;
  });
  if (!headers.empty()) answer.headers.push_back({"Access-Control-Allow-Headers", std::move(headers)});
  answer.headers.push_back({"Access-Control-Max-Age", std::string(kMaxAgeSeconds)});
  return answer;
}

Headers response_headers(const AllowedOrigins& origins, std::string_view origin) {
  Headers headers;
  if (!origins.enabled()) return headers;
  headers.push_back({"Vary", "Origin"});
  if (!origins.allows(origin)) return headers;
  headers.push_back({"Access-Control-Allow-Origin", origins.any() ? "*" : std::string(origin)});
  headers.push_back({"Access-Control-Expose-Headers", std::string(kExposedHeaders)});
  return headers;
}

std::optional<std::string> refuse_cross_site_form(const AllowedOrigins& origins, const FormRequest& request) {
  if (!is_unsafe(request.method) || !is_form_type(request.content_type)) return std::nullopt;
  const bool cross_site = beast::iequals(trim_blanks(request.sec_fetch_site), "cross-site");
  if (request.origin.empty()) {
    if (cross_site) return std::string("CSRF Failed: Cross-site request refused.");
    return std::nullopt;
  }
  if (origins.allows(request.origin)) return std::nullopt;
  const auto own = normalize_origin(fmt::format("{}://{}", request.scheme, request.host));
  const auto sent = normalize_origin(request.origin);
  if (own && sent && *own == *sent && !cross_site) return std::nullopt;
  return origin_failed(request.origin);
}

}  // namespace users::api::cors
