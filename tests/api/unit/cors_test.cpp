#include "api/cors.hpp"

#include <gtest/gtest.h>

namespace users::api::cors {
namespace {

AllowedOrigins origins(std::string_view setting, bool authentication = true) {
  auto parsed = AllowedOrigins::parse(setting, authentication);
  EXPECT_TRUE(parsed.has_value()) << setting << ": " << (parsed ? "" : parsed.error());
  return parsed ? *parsed : AllowedOrigins();
}

// The value of `name`, or nullopt when the headers do not have it.
std::optional<std::string> header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return std::nullopt;
}

TEST(NormalizeOrigin, AsABrowserSerializesIt) {
  EXPECT_EQ(normalize_origin("https://App.Example.com"), "https://app.example.com");
  EXPECT_EQ(normalize_origin("HTTP://example.com:80"), "http://example.com");
  EXPECT_EQ(normalize_origin("https://example.com:443"), "https://example.com");
  EXPECT_EQ(normalize_origin("http://localhost:3000"), "http://localhost:3000");
  EXPECT_EQ(normalize_origin("http://[::1]:8000"), "http://[::1]:8000");
  for (const char* origin :
       {"null", "https://example.com/", "https://example.com/app", "https://example.com?x", "https://user@example.com",
        "ftp://example.com", "example.com", "https://", "https://example.com:99999", ""}) {
    EXPECT_EQ(normalize_origin(origin), std::nullopt) << origin;
  }
}

TEST(AllowedOrigins, ParsesExactOrigins) {
  const auto allowed = origins("https://app.example.com, http://localhost:3000");
  EXPECT_TRUE(allowed.enabled());
  EXPECT_FALSE(allowed.any());
  EXPECT_TRUE(allowed.allows("https://app.example.com"));
  EXPECT_TRUE(allowed.allows("http://localhost:3000"));
  EXPECT_FALSE(allowed.allows("http://app.example.com"));
  EXPECT_FALSE(allowed.allows("https://evil.example.com"));
  EXPECT_FALSE(allowed.allows("http://localhost:3001"));
  EXPECT_FALSE(allowed.allows("null"));
  EXPECT_FALSE(allowed.allows(""));
}

TEST(AllowedOrigins, EmptyIsOff) {
  const auto allowed = origins("");
  EXPECT_FALSE(allowed.enabled());
  EXPECT_FALSE(allowed.allows("https://app.example.com"));
}

TEST(AllowedOrigins, StarOnlyWithoutAuthentication) {
  const auto open = origins("*", false);
  EXPECT_TRUE(open.any());
  EXPECT_TRUE(open.allows("https://anything.example"));
  const auto refused = AllowedOrigins::parse("*", true);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find("authentication"), std::string::npos) << refused.error();
  EXPECT_FALSE(AllowedOrigins::parse("*, https://a.example", false).has_value());
}

TEST(AllowedOrigins, APathOrANonOriginIsAnError) {
  const auto path = AllowedOrigins::parse("https://app.example.com/", false);
  ASSERT_FALSE(path.has_value());
  EXPECT_NE(path.error().find("has a path"), std::string::npos) << path.error();
  for (const char* setting : {"app.example.com", "https://a.example/x", "null", "ftp://a.example"}) {
    EXPECT_FALSE(AllowedOrigins::parse(setting, false).has_value()) << setting;
  }
}

constexpr std::string_view kItemAllow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";

TEST(Preflight, AnAllowedOriginGetsTheRoutesMethodsAndTheHeadersItMaySend) {
  const auto answer =
      answer_preflight(origins("https://app.example.com"), kItemAllow,
                       {"OPTIONS", "https://app.example.com", "PUT", "Authorization, Content-Type, X-Evil, if-match"});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 204U);
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Methods"), std::string(kItemAllow));
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Headers"), "authorization, content-type, if-match");
  EXPECT_EQ(header(answer->headers, "Access-Control-Max-Age"), "7200");
  EXPECT_EQ(header(answer->headers, "Vary"), "Origin");
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Credentials"), std::nullopt);
}

TEST(Preflight, NoRequestedHeadersNoAllowHeaders) {
  const auto answer = answer_preflight(origins("https://app.example.com"), kItemAllow,
                                       {"OPTIONS", "https://app.example.com", "DELETE", ""});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Headers"), std::nullopt);
}

TEST(Preflight, AnOriginNotAllowedGetsNoCorsHeaders) {
  const auto answer = answer_preflight(origins("https://app.example.com"), kItemAllow,
                                       {"OPTIONS", "https://evil.example", "PUT", "authorization"});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 204U);
  ASSERT_EQ(answer->headers.size(), 1U);
  EXPECT_EQ(header(answer->headers, "Vary"), "Origin");
}

TEST(Preflight, NotAPreflightOrCorsOffIsAnsweredAsAnyOptions) {
  const auto allowed = origins("https://app.example.com");
  EXPECT_FALSE(answer_preflight(allowed, kItemAllow, {"OPTIONS", "https://app.example.com", "", ""}).has_value());
  EXPECT_FALSE(answer_preflight(allowed, kItemAllow, {"OPTIONS", "", "PUT", ""}).has_value());
  EXPECT_FALSE(answer_preflight(allowed, kItemAllow, {"GET", "https://app.example.com", "PUT", ""}).has_value());
  EXPECT_FALSE(
      answer_preflight(AllowedOrigins(), kItemAllow, {"OPTIONS", "https://app.example.com", "PUT", ""}).has_value());
}

TEST(Preflight, StarAnswersStar) {
  const auto answer = answer_preflight(origins("*", false), kItemAllow, {"OPTIONS", "https://a.example", "GET", ""});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(header(answer->headers, "Access-Control-Allow-Origin"), "*");
}

TEST(ResponseHeaders, AnAllowedOriginMayReadTheAnswerAndItsHeaders) {
  const auto headers = response_headers(origins("https://app.example.com"), "https://app.example.com");
  EXPECT_EQ(header(headers, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(header(headers, "Access-Control-Expose-Headers"), "ETag, Retry-After, X-Request-ID, WWW-Authenticate");
  EXPECT_EQ(header(headers, "Vary"), "Origin");
}

TEST(ResponseHeaders, OthersOnlyVary) {
  const auto allowed = origins("https://app.example.com");
  for (const char* origin : {"https://evil.example", ""}) {
    const auto headers = response_headers(allowed, origin);
    ASSERT_EQ(headers.size(), 1U) << origin;
    EXPECT_EQ(header(headers, "Vary"), "Origin");
  }
  EXPECT_TRUE(response_headers(AllowedOrigins(), "https://app.example.com").empty());
}

FormRequest form(std::string_view origin, std::string_view sec_fetch_site = "",
                 std::string_view content_type = "application/x-www-form-urlencoded",
                 std::string_view method = "POST") {
  return FormRequest{method, content_type, origin, sec_fetch_site, "api.example.com:8000", "http"};
}

TEST(CrossSiteForm, AFormPostFromAnotherSiteIsRefusedWithDjangosMessage) {
  const auto allowed = origins("https://app.example.com");
  EXPECT_EQ(refuse_cross_site_form(allowed, form("https://evil.example")),
            "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.");
  EXPECT_EQ(refuse_cross_site_form(AllowedOrigins(), form("null")),
            "CSRF Failed: Origin checking failed - null does not match any trusted origins.");
}

TEST(CrossSiteForm, AnOriginsBytesPast0x7FAreQuotedAsDjangoDecodesThemLatin1) {
  // Found by tests/fuzz (request_path): quoted as they came, they made the
  // 403's JSON body invalid UTF-8.
  EXPECT_EQ(refuse_cross_site_form(origins("https://app.example.com"), form("http://\x80\xff\x9ctest")),
            "CSRF Failed: Origin checking failed - http://\u0080\u00ff\u009ctest does not match any trusted origins.");
}

TEST(CrossSiteForm, EveryFormTypeAndUnsafeMethodCounts) {
  const auto allowed = AllowedOrigins();
  for (const char* type : {"application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "TEXT/PLAIN;charset=UTF-8", " text/plain "}) {
    for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
      EXPECT_TRUE(refuse_cross_site_form(allowed, form("https://evil.example", "", type, method)).has_value())
          << method << ' ' << type;
    }
  }
}

TEST(CrossSiteForm, JsonSafeMethodsAndNoBrowserPass) {
  const auto allowed = AllowedOrigins();
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("https://evil.example", "", "application/json")).has_value());
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("https://evil.example", "cross-site", "", "POST")).has_value());
  EXPECT_FALSE(refuse_cross_site_form(
                   allowed, form("https://evil.example", "cross-site", "application/x-www-form-urlencoded", "GET"))
                   .has_value());
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("")).has_value());  // curl
}

TEST(CrossSiteForm, TheServersOwnOriginAndAllowedOnesPass) {
  const auto allowed = origins("https://app.example.com");
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("http://api.example.com:8000", "same-origin")).has_value());
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("http://API.example.com:8000")).has_value());
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("https://app.example.com", "cross-site")).has_value());
  // Another port or scheme is another origin.
  EXPECT_TRUE(refuse_cross_site_form(allowed, form("http://api.example.com:8001")).has_value());
  EXPECT_TRUE(refuse_cross_site_form(allowed, form("https://api.example.com:8000")).has_value());
}

TEST(CrossSiteForm, SecFetchSiteCrossSiteIsRefused) {
  const auto allowed = AllowedOrigins();
  EXPECT_EQ(refuse_cross_site_form(allowed, form("", "cross-site")), "CSRF Failed: Cross-site request refused.");
  EXPECT_EQ(refuse_cross_site_form(allowed, form("http://api.example.com:8000", "cross-site")),
            "CSRF Failed: Origin checking failed - http://api.example.com:8000 does not match any trusted origins.");
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("", "same-site")).has_value());
  EXPECT_FALSE(refuse_cross_site_form(allowed, form("", "none")).has_value());
}

TEST(CrossSiteForm, TheDefaultPortOfTheOwnOriginMayBeWrittenOrNot) {
  const auto allowed = AllowedOrigins();
  FormRequest request = form("http://api.example.com");
  request.host = "api.example.com:80";
  EXPECT_FALSE(refuse_cross_site_form(allowed, request).has_value());
  request.origin = "https://api.example.com";
  request.host = "api.example.com";
  request.scheme = "https";
  EXPECT_FALSE(refuse_cross_site_form(allowed, request).has_value());
}

}  // namespace
}  // namespace users::api::cors
