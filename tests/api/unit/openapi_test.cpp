// The OpenAPI document describes exactly the routes the router answers.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "api/assets.hpp"
#include "api/routes.hpp"
#include "domain/user.hpp"

namespace users::api {
namespace {

std::set<std::string> methods_of(std::string_view allow) {
  std::set<std::string> methods;
  while (!allow.empty()) {
    const auto comma = allow.find(',');
    std::string method(allow.substr(0, comma));
    while (!method.empty() && method.front() == ' ') method.erase(0, 1);
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    methods.insert(method);
    allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 1);
  }
  return methods;
}

TEST(OpenApi, DocumentsEveryRouteWithExactlyItsMethods) {
  const auto document = boost::json::parse(assets::openapi_json()).as_object();
  EXPECT_EQ(document.at("openapi").as_string(), "3.1.0");
  const auto& paths = document.at("paths").as_object();
  std::set<std::string> documented_paths;
  for (const auto& [path, item] : paths) documented_paths.insert(std::string(path));
  std::set<std::string> routed_paths;
  for (const auto& route : kRouteTable) routed_paths.insert(std::string(route.path));
  EXPECT_EQ(documented_paths, routed_paths);

  for (const auto& route : kRouteTable) {
    const auto* item = paths.if_contains(route.path);
    ASSERT_NE(item, nullptr) << route.path;
    std::set<std::string> documented_methods;
    for (const auto& [key, value] : item->as_object()) {
      if (key != "parameters" && key != "summary" && key != "description") documented_methods.insert(std::string(key));
    }
    EXPECT_EQ(documented_methods, methods_of(route.allow)) << route.path;
  }
}

TEST(OpenApi, SchemaLimitsMatchTheDomain) {
  const auto document = boost::json::parse(assets::openapi_json()).as_object();
  const auto& user = document.at("components").at("schemas").at("User").at("properties");
  EXPECT_EQ(user.at("dni").at("maxLength").to_number<std::size_t>(), domain::kDniMaxChars);
  EXPECT_EQ(user.at("name").at("maxLength").to_number<std::size_t>(), domain::kNameMaxChars);
}

}  // namespace
}  // namespace users::api
