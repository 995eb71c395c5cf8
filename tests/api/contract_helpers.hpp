// Shared pieces of the API contract suites (contract_*_test.cpp): every test
// starts the real binary and checks what api.md promises, byte for byte.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing::contract {

// The Allow header DRF sends on each route.
inline constexpr std::string_view kRootAllow = "GET, HEAD, OPTIONS";
inline constexpr std::string_view kListAllow = "GET, POST, HEAD, OPTIONS";
inline constexpr std::string_view kItemAllow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";

inline constexpr std::string_view kNotFoundBody = R"({"detail":"Not found."})";
inline constexpr std::string_view kBothRequired =
    R"({"dni":["This field is required."],"name":["This field is required."]})";
inline constexpr std::string_view kAlreadyExists = R"({"detail":"User already exists"})";
inline constexpr std::string_view kDniTaken = R"({"dni":["user with this dni already exists."]})";

inline constexpr std::string_view kUsers = "/api/users/";

// Joins text. (operator+ on a string literal trips GCC 12's -Wrestrict false
// positive at -O3, and warnings are errors here.)
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

// A JSON array of already serialized elements.
inline std::string json_array(std::initializer_list<std::string_view> elements) {
  std::string out = "[";
  for (const auto element : elements) {
    if (out.size() > 1) out += ',';
    out += element;
  }
  out += ']';
  return out;
}

// A header's value, or "<absent>".
inline std::string header(const HttpResponse& response, std::string_view name) {
  const auto it = response.find(name);
  return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

inline std::string item(std::int64_t id) {
  return cat(kUsers, std::to_string(id), "/");
}

inline std::string repeat(std::string_view text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

// The root's answer for a client that sent Host: 127.0.0.1:<port>.
inline std::string root_body(std::uint16_t port) {
  return cat(R"({"users":"http://127.0.0.1:)", std::to_string(port), R"(/api/users/"})");
}

// The serialized user, for plain ASCII values that need no JSON escaping.
inline std::string user_json(std::int64_t id, std::string_view dni, std::string_view name) {
  return cat(R"({"id":)", std::to_string(id), R"(,"dni":")", dni, R"(","name":")", name, R"("})");
}

// A DRF answer: status, the exact body, Content-Type (absent when the body is
// empty, as for DRF's 204), Allow and Vary.
inline void expect_api_response(const HttpResponse& response, int status, std::string_view body,
                                std::string_view allow) {
  EXPECT_EQ(response.result_int(), status);
  EXPECT_EQ(response.body(), body);
  EXPECT_EQ(header(response, "Content-Type"), body.empty() ? "<absent>" : "application/json");
  EXPECT_EQ(header(response, "Allow"), allow);
  EXPECT_EQ(header(response, "Vary"), "Accept");
}

// Status plus the exact JSON body only: for answers outside the DRF views
// (unknown paths), where api.md fixes no other header.
inline void expect_json_response(const HttpResponse& response, int status, std::string_view body) {
  EXPECT_EQ(response.result_int(), status);
  EXPECT_EQ(response.body(), body);
  EXPECT_EQ(header(response, "Content-Type"), "application/json");
}

// A JSON document, or null when the text is not JSON (the test then fails on
// what it expected to find).
inline boost::json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) {
    ADD_FAILURE() << "not JSON: " << text;
    return nullptr;
  }
  return value;
}

// One fresh server (own temporary SQLite file) and one client per test.
class ContractTest : public ::testing::Test {
 protected:
  HttpResponse post(std::string_view json) { return client_.post_json(kUsers, json); }
  HttpResponse put(std::int64_t id, std::string_view json) { return client_.put_json(item(id), json); }
  HttpResponse patch(std::int64_t id, std::string_view json) { return client_.patch_json(item(id), json); }
  HttpResponse get(std::int64_t id) { return client_.get(item(id)); }
  HttpResponse list() { return client_.get(kUsers); }
  HttpResponse send(std::string_view method, std::string_view target, std::string_view body,
                    std::string_view content_type) {
    return client_.request(method, target, body, {{"Content-Type", std::string(content_type)}});
  }

  // Creates a user from plain ASCII values; the id the server gave, or -1
  // (with a test failure) when it did not answer 201.
  std::int64_t create(std::string_view dni, std::string_view name) {
    const auto response = post(cat(R"({"dni":")", dni, R"(","name":")", name, R"("})"));
    if (response.result_int() != 201) {
      ADD_FAILURE() << "creating " << dni << " answered " << response.result_int() << " " << response.body();
      return -1;
    }
    const auto value = parse_json(response.body());
    if (!value.is_object() || !value.as_object().contains("id") || !value.at("id").is_int64()) {
      ADD_FAILURE() << "no id in " << response.body();
      return -1;
    }
    return value.at("id").as_int64();
  }

  TestServer server_;
  HttpClient client_{server_.port()};
};

}  // namespace users::testing::contract

// The macros record the caller's line, so a failure points at the request.
#define EXPECT_API(response, status, body, allow)                                           \
  do {                                                                                      \
    SCOPED_TRACE("EXPECT_API");                                                             \
    ::users::testing::contract::expect_api_response((response), (status), (body), (allow)); \
  } while (false)
#define EXPECT_LIST_API(response, status, body) \
  EXPECT_API(response, status, body, ::users::testing::contract::kListAllow)
#define EXPECT_ITEM_API(response, status, body) \
  EXPECT_API(response, status, body, ::users::testing::contract::kItemAllow)
#define EXPECT_JSON(response, status, body)                                         \
  do {                                                                              \
    SCOPED_TRACE("EXPECT_JSON");                                                    \
    ::users::testing::contract::expect_json_response((response), (status), (body)); \
  } while (false)
