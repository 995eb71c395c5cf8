// The links DRF's paginators write: urllib's encoding and parse_qs's
// reading, checked against what Python prints for the same input.
#include "api/query_params.hpp"

#include <gtest/gtest.h>

#include "api/cursor.hpp"

namespace users::api {
namespace {

TEST(QueryParams, LastValueWinsAndPlusIsASpace) {
  const auto params = QueryParams::of_target("/api/users/?a=1&b=x+y&a=2&c&d=%C3%B1");
  EXPECT_EQ(params.last("a"), "2");
  EXPECT_EQ(params.last("b"), "x y");
  EXPECT_EQ(params.last("c"), "");  // keep_blank_values
  EXPECT_EQ(params.last("d"), "\xC3\xB1");
  EXPECT_EQ(params.last("e"), std::nullopt);
  // Ill-formed UTF-8 is replaced, as Django decodes with errors="replace".
  EXPECT_EQ(QueryParams::of_target("/?x=%FF").last("x"), "\xEF\xBF\xBD");
}

// replace_query_param("http://h/api/users/?search=a b&page=2&limit=5", "page", 3)
// in Python: 'http://h/api/users/?limit=5&page=3&search=a+b'
TEST(QueryParams, LinksSortTheKeysAndEncodeAsUrlencode) {
  const auto params = QueryParams::of_target("/api/users/?search=a%20b&page=2&limit=5");
  EXPECT_EQ(params.link("http://h", {{"page", "3"}}), "http://h/api/users/?limit=5&page=3&search=a+b");
  EXPECT_EQ(params.link("http://h", {{"page", std::nullopt}}), "http://h/api/users/?limit=5&search=a+b");
  EXPECT_EQ(QueryParams::of_target("/api/users/").link("http://h", {{"page", std::nullopt}}), "http://h/api/users/");
  // quote_plus: only letters, digits and _.-~ stay; %XX in upper case.
  const auto odd = QueryParams::of_target("/api/users/?q=%C3%B1%2F%26%3D%2B~._-");
  EXPECT_EQ(odd.link("http://h", {}), "http://h/api/users/?q=%C3%B1%2F%26%3D%2B~._-");
  // A key's repeated values stay, in order (urlencode with doseq).
  EXPECT_EQ(QueryParams::of_target("/p?b=2&a=1&b=1").link("o", {{"c", "3"}}), "o/p?a=1&b=2&b=1&c=3");
}

TEST(Cursor, RoundTripsAndRefusesWhatItCouldNotHaveWritten) {
  const Cursor cursor{domain::User{42, "12 & 3", "Zoë Ñ+"}, true};
  const auto decoded = decode_cursor(encode_cursor(cursor));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->position, cursor.position);
  EXPECT_TRUE(decoded->reverse);
  for (const char* bad : {"", "!!", "cj0x", "cj0yJmk9MSZkPSZuPQ", "cj0xJmk9eCZkPSZuPQ", "cj0xJmk9MSZkPSUwMCZuPQ"}) {
    EXPECT_EQ(decode_cursor(bad), std::nullopt) << bad;  // empty; not base64url; no i/d/n; r=2; i=x; d=NUL
  }
  EXPECT_TRUE(decode_cursor("cj0xJmk9MSZkPSZuPQ"));  // r=1&i=1&d=&n=: empty fields are fine
}

}  // namespace
}  // namespace users::api
