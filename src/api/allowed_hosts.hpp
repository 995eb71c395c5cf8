// Django's ALLOWED_HOSTS: which Host header values the server answers, so that
// a link built from Host (the API root's) never points at a host an attacker
// chose. Matching follows django.http.request.validate_host and
// split_domain_port.
#pragma once

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace users::api {

struct DomainPort {
  std::string domain;  // lowercased, a trailing dot removed; an IPv6 literal keeps its brackets
  std::string port;    // as sent, empty when absent
};

// A Host value split as Django does; nullopt when it is not a valid host
// (Django's host_validation_re: a name of [a-z0-9.-], an IPv4 address or an
// IPv6 literal in brackets, then an optional :port; nothing else, so no
// userinfo, path, blank or empty name).
std::optional<DomainPort> split_domain_port(std::string_view host);

class AllowedHosts {
 public:
  // The comma-separated setting (the default is "*"). Entries: "*" (any host),
  // "example.com" (that host, any case), ".example.com" (it and every
  // subdomain), "127.0.0.1", "[::1]". An entry with a port, or one that is no
  // host at all, is an error (it could never match); so is a list with no entry.
  static boost::system::result<AllowedHosts, std::string> parse(std::string_view setting);

  // Whether a request's Host header value may be answered. A value that is not
  // a valid host is refused even with "*", as Django refuses it.
  [[nodiscard]] bool allows(std::string_view host) const;

 private:
  std::vector<std::string> patterns_;
  bool any_ = false;
};

}  // namespace users::api
