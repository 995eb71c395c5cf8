#include "api/negotiation.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>

#include "domain/text.hpp"

namespace users::api {
namespace {

namespace beast = boost::beast;

std::string_view trim(std::string_view text) {
  return domain::text::python_strip(text);
}

double quality(std::string_view parameters) {
  for (const auto& param : beast::http::param_list(parameters)) {
    if (!beast::iequals(param.first, "q")) continue;
    double q = 1.0;
    const auto value = param.second;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc{} || q < 0 || q > 1) return 1.0;
    return q;
  }
  return 1.0;
}

}  // namespace

Representation negotiate(std::string_view accept, std::string_view target) {
  // Without a '?' there is no query (RFC 3986 3.4), and most targets have
  // none: they are not parsed a second time (routes.cpp parsed them once).
  const auto url = target.find('?') == std::string_view::npos ? std::nullopt
                                                              : std::optional(boost::urls::parse_uri_reference(target));
  if (url && *url && (*url)->has_query()) {
    for (const auto& param : (*url)->params()) {
      if (param.key != "format") continue;
      if (param.value == "api") return Representation::kHtml;
      if (param.value == "json") return Representation::kJson;
    }
  }
  double html = 0;
  double json = 0;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const std::string_view range = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const auto semicolon = range.find(';');
    const std::string_view type = trim(range.substr(0, semicolon));
    const double q = quality(semicolon == std::string_view::npos ? std::string_view() : range.substr(semicolon));
    if (beast::iequals(type, "text/html") || beast::iequals(type, "text/*")) html = std::max(html, q);
    if (beast::iequals(type, "application/json") || beast::iequals(type, "application/*") || type == "*/*") {
      json = std::max(json, q);
    }
  }
  return html > 0 && html >= json ? Representation::kHtml : Representation::kJson;
}

}  // namespace users::api
