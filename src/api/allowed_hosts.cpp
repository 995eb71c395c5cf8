#include "api/allowed_hosts.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/url/authority_view.hpp>
#include <boost/url/host_type.hpp>
#include <boost/url/parse.hpp>

#include "api/list_text.hpp"

namespace users::api {
namespace urls = boost::urls;

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// django.utils.http.is_same_domain, with `pattern` already lowercased.
bool is_same_domain(std::string_view host, std::string_view pattern) {
  if (pattern.empty()) return false;
  if (pattern.front() == '.') return host.ends_with(pattern) || host == pattern.substr(1);
  return host == pattern;
}

}  // namespace

std::optional<DomainPort> split_domain_port(std::string_view host) {
  // RFC 3986's authority grammar (Boost.URL) is wider than Django's regex:
  // what it lets through beyond the regex is refused below.
  const auto authority = urls::parse_authority(host);
  if (!authority || authority->has_userinfo()) return std::nullopt;
  if (authority->has_port() && authority->port().empty()) return std::nullopt;
  std::string domain = ascii_lowercase(authority->encoded_host());
  switch (authority->host_type()) {
    case urls::host_type::name:
      if (!std::all_of(domain.begin(), domain.end(), is_name_char)) return std::nullopt;
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6: break;
    default: return std::nullopt;  // none, IPvFuture
  }
  if (domain.ends_with('.')) domain.pop_back();
  if (domain.empty()) return std::nullopt;
  return DomainPort{std::move(domain), std::string(authority->port())};
}

boost::system::result<AllowedHosts, std::string> AllowedHosts::parse(std::string_view setting) {
  AllowedHosts hosts;
  std::string error;
  for_each_list_element(setting, [&](std::string_view entry) {
    if (entry == "*") {
      hosts.any_ = true;
      return true;
    }
    const bool subdomains = entry.front() == '.';
    const auto parts = split_domain_port(subdomains ? entry.substr(1) : entry);
    if (!parts) {
      error = fmt::format(R"("{}" is not a host name, an IP address, "*" or ".domain")", entry);
    } else if (!parts->port.empty()) {
      error = fmt::format("\"{}\" has a port, which is not part of the match", entry);
    } else {
      hosts.patterns_.push_back(subdomains ? "." + parts->domain : parts->domain);
    }
    return error.empty();
  });
  if (!error.empty()) return error;
  if (!hosts.any_ && hosts.patterns_.empty()) return std::string("lists no host: every request would be refused");
  return hosts;
}

bool AllowedHosts::allows(std::string_view host) const {
  const auto parts = split_domain_port(host);
  if (!parts) return false;
  if (any_) return true;
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::string& pattern) { return is_same_domain(parts->domain, pattern); });
}

}  // namespace users::api
