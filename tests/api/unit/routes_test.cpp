#include "api/routes.hpp"

#include <gtest/gtest.h>

namespace users::api {
namespace {

using Kind = Route::Kind;

TEST(MatchRoute, KnownPaths) {
  EXPECT_EQ(match_route("/api/").kind, Kind::kRoot);
  EXPECT_EQ(match_route("/api/users/").kind, Kind::kUserList);
  EXPECT_EQ(match_route("/api/users/?format=json").kind, Kind::kUserList);
  const auto item = match_route("/api/users/42/");
  EXPECT_EQ(item.kind, Kind::kUserItem);
  EXPECT_EQ(item.user_id, "42");
  EXPECT_EQ(item.name, "/api/users/{id}/");
  EXPECT_EQ(match_route("http://example.com/api/users/").kind, Kind::kUserList);
}

TEST(MatchRoute, PercentDecodesThePathAsDjangoDoes) {
  const auto item = match_route("/api/users/%201/");
  EXPECT_EQ(item.kind, Kind::kUserItem);
  EXPECT_EQ(item.user_id, " 1");
  EXPECT_EQ(match_route("/api/%75sers/").kind, Kind::kUserList);
}

TEST(MatchRoute, MissingSlashRedirectsKeepingTheQuery) {
  const auto list = match_route("/api/users?a=1");
  EXPECT_EQ(list.kind, Kind::kRedirect);
  EXPECT_EQ(list.location, "/api/users/?a=1");
  EXPECT_EQ(match_route("/api/users/7").location, "/api/users/7/");
  EXPECT_EQ(match_route("/api").location, "/api/");
}

TEST(MatchRoute, EverythingElseIsNotFound) {
  for (const char* target :
       {"/", "/api/users/1/2/", "/api/users/1.json/", "/api/users//", "/apix/", "/api/users/x/y"}) {
    EXPECT_EQ(match_route(target).kind, Kind::kNotFound) << target;
  }
  EXPECT_EQ(match_route("//evil.example/api/users/").kind, Kind::kNotFound);
  EXPECT_EQ(match_route("*").kind, Kind::kBadTarget);
  EXPECT_EQ(match_route("api/users/").kind, Kind::kBadTarget);
}

}  // namespace
}  // namespace users::api
