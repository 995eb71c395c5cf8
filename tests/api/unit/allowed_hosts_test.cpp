#include "api/allowed_hosts.hpp"

#include <gtest/gtest.h>

namespace users::api {
namespace {

AllowedHosts hosts(std::string_view setting) {
  auto parsed = AllowedHosts::parse(setting);
  EXPECT_TRUE(parsed.has_value()) << setting << ": " << (parsed ? "" : parsed.error());
  return parsed ? *parsed : *AllowedHosts::parse("*");
}

// Django's tests/requests_tests: test_split_domain_port.
TEST(SplitDomainPort, DjangosCases) {
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"[::1]", "[::1]", ""},
      {"[::1]:8080", "[::1]", "8080"},
      {"[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]", ""},
      {"[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]", "8080"},
      {"[1851:0000:3238:DEF1:0177:0000:0000:0125]", "[1851:0000:3238:def1:0177:0000:0000:0125]", ""},
      {"[1851:0000:3238:DEF1:0177:0000:0000:0125]:8080", "[1851:0000:3238:def1:0177:0000:0000:0125]", "8080"},
      {"127.0.0.1", "127.0.0.1", ""},
      {"127.0.0.1:8080", "127.0.0.1", "8080"},
      {"example.com", "example.com", ""},
      {"example.com:8080", "example.com", "8080"},
      {"example.com.", "example.com", ""},
      {"example.com.:8080", "example.com", "8080"},
      {"xn--n28h.test", "xn--n28h.test", ""},
      {"xn--n28h.test:8080", "xn--n28h.test", "8080"},
      {"subdomain.example.com", "subdomain.example.com", ""},
      {"subdomain.example.com:8080", "subdomain.example.com", "8080"},
      {"EXAMPLE.com", "example.com", ""},
  };
  for (const auto& [host, domain, port] : cases) {
    const auto parts = split_domain_port(host);
    ASSERT_TRUE(parts.has_value()) << host;
    EXPECT_EQ(parts->domain, domain) << host;
    EXPECT_EQ(parts->port, port) << host;
  }
}

TEST(SplitDomainPort, InvalidHostsHaveNoDomain) {
  for (const char* host : {"<invalid>", "<invalid>:8080", "example.com 8080", "example.com:invalid", "", ":8080",
                           "example.com:", "exa_mple.com", "ex%41mple.com", "[v1.fe]", "."}) {
    EXPECT_FALSE(split_domain_port(host).has_value()) << '"' << host << '"';
  }
}

// Django's tests/requests_tests: test_http_get_host (USE_X_FORWARDED_HOST off).
constexpr std::string_view kDjangoAllowedHosts =
    "forward.com, example.com, internal.com, 12.34.56.78, [2001:19f0:feee::dead:beef:cafe], xn--4ca9at.com, "
    ".multitenant.com, INSENSITIVE.com, [::ffff:169.254.169.254]";

TEST(AllowedHosts, DjangosLegitimateHosts) {
  const auto allowed = hosts(kDjangoAllowedHosts);
  for (const char* host :
       {"example.com", "example.com:80", "12.34.56.78", "12.34.56.78:443", "[2001:19f0:feee::dead:beef:cafe]",
        "[2001:19f0:feee::dead:beef:cafe]:8080", "xn--4ca9at.com", "anything.multitenant.com", "multitenant.com",
        "insensitive.com", "example.com.", "example.com.:80", "[::ffff:169.254.169.254]"}) {
    EXPECT_TRUE(allowed.allows(host)) << host;
  }
}

TEST(AllowedHosts, DjangosPoisonedHosts) {
  const auto allowed = hosts(kDjangoAllowedHosts);
  for (const char* host :
       {"example.com@evil.tld", "example.com:dr.frankenstein@evil.tld", "example.com:dr.frankenstein@evil.tld:80",
        "example.com:80/badpath", "example.com: recovermypassword.com", "other.com", "evilmultitenant.com",
        "multitenant.com.evil.tld", "[2001:19f0:feee::dead:beef:caff]"}) {
    EXPECT_FALSE(allowed.allows(host)) << host;
  }
}

TEST(AllowedHosts, StarAllowsEveryValidHostButNoInvalidOne) {
  const auto allowed = hosts("*");
  EXPECT_TRUE(allowed.allows("evil.example:1234"));
  EXPECT_TRUE(allowed.allows("[::1]:8000"));
  EXPECT_FALSE(allowed.allows("example.com@evil.tld"));
  EXPECT_FALSE(allowed.allows(""));
}

TEST(AllowedHosts, TheSubdomainPatternMatchesItselfAndEveryLevelBelow) {
  const auto allowed = hosts(".example.com");
  EXPECT_TRUE(allowed.allows("example.com"));
  EXPECT_TRUE(allowed.allows("a.b.example.com:8000"));
  EXPECT_FALSE(allowed.allows("badexample.com"));
  EXPECT_FALSE(allowed.allows("example.com.evil"));
}

TEST(AllowedHosts, Ipv6LiteralsMatchWithOrWithoutAPort) {
  const auto allowed = hosts("[::1], localhost");
  EXPECT_TRUE(allowed.allows("[::1]:8000"));
  EXPECT_TRUE(allowed.allows("[::1]"));
  EXPECT_TRUE(allowed.allows("LOCALHOST:8000"));
  EXPECT_FALSE(allowed.allows("[::2]:8000"));
  EXPECT_FALSE(allowed.allows("::1"));
}

TEST(AllowedHosts, EntriesThatCouldNeverMatchAreErrors) {
  for (const char* setting : {"", " , ", "example.com:8000", "http://example.com", "exa mple.com", "a@b"}) {
    EXPECT_FALSE(AllowedHosts::parse(setting).has_value()) << '"' << setting << '"';
  }
  const auto port = AllowedHosts::parse("ok.com, example.com:8000");
  ASSERT_FALSE(port.has_value());
  EXPECT_NE(port.error().find("\"example.com:8000\" has a port"), std::string::npos) << port.error();
}

}  // namespace
}  // namespace users::api
