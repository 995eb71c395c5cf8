// The api layer in process: UsersApi::handle called with a request, on a
// real SQLite store in a temporary directory, with no socket in between.
// The black-box suites beside this folder hold the contract over HTTP;
// these pin what the layer itself decides (routes, outcomes, presenters).
#include "api/users_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/field.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "api/route_table.hpp"
#include "observability/metrics.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support/test_server.hpp"

namespace users::api {
namespace {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// A response with its streamed body, if any, read to the end.
struct Answered {
  unsigned status = 0;
  std::string body;
  http::Message message;
  std::string_view route;
  bool streamed = false;
};

class UsersApiInProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = users::testing::make_temp_dir();
    storage::sqlite::SqliteOptions options;
    options.path = (dir_ / "db.sqlite3").string();
    auto migrated = storage::sqlite::migrate(options);
    ASSERT_TRUE(migrated) << migrated.error();
    auto opened = storage::sqlite::open_store(options);
    ASSERT_TRUE(opened) << opened.error();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  UsersApi& api() {
    if (!api_) {
      api_options_.metrics = &metrics_;
      api_ = std::make_unique<UsersApi>(*store_, api_options_);
    }
    return *api_;
  }

  Answered call(bhttp::verb method, std::string target, std::string body = {},
                std::string_view content_type = "application/json", std::string_view accept = {}) {
    http::Request request{method, target, 11};
    request.set(bhttp::field::host, "testserver");
    if (!body.empty()) request.set(bhttp::field::content_type, content_type);
    if (!accept.empty()) request.set(bhttp::field::accept, accept);
    request.body() = std::move(body);
    request.prepare_payload();
    asio::io_context io;
    auto future = asio::co_spawn(io, exchange(api(), std::move(request)), asio::use_future);
    io.run();
    return future.get();
  }

  static asio::awaitable<Answered> exchange(UsersApi& api, http::Request request) {
    auto handling = api.handle(std::move(request), http::RequestInfo{"test-request", "127.0.0.1:1"});
    http::Response response = co_await std::move(handling);
    Answered answered;
    answered.status = response.message.result_int();
    answered.route = response.route;
    answered.body = response.message.body();
    if (response.stream) {
      answered.streamed = true;
      for (;;) {
        auto piece = co_await response.stream->next();
        if (!piece || piece->empty()) break;
        answered.body += *piece;
      }
    }
    answered.message = std::move(response.message);
    co_return answered;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::UserStore> store_;
  observability::Metrics metrics_{kRouteLabels};
  ApiOptions api_options_;
  std::unique_ptr<UsersApi> api_;
};

std::string header(const Answered& answered, bhttp::field field) {
  return std::string(answered.message[field]);
}

TEST_F(UsersApiInProcess, AnEmptyListIsAJsonArrayWithTheRoutesAllow) {
  const auto answered = call(bhttp::verb::get, "/api/users/");
  EXPECT_EQ(answered.status, 200U);
  EXPECT_EQ(answered.body, "[]");
  EXPECT_EQ(header(answered, bhttp::field::content_type), "application/json");
  EXPECT_EQ(header(answered, bhttp::field::allow), "GET, POST, HEAD, OPTIONS");
  EXPECT_EQ(answered.route, "/api/users/");
}

TEST_F(UsersApiInProcess, ACreateIsA201WithTheStoredUser) {
  const auto created = call(bhttp::verb::post, "/api/users/", R"({"dni":"123","name":"Ana"})");
  EXPECT_EQ(created.status, 201U);
  EXPECT_EQ(created.body, R"({"id":1,"dni":"123","name":"Ana"})");
  const auto found = call(bhttp::verb::get, "/api/users/1/");
  EXPECT_EQ(found.status, 200U);
  EXPECT_EQ(found.body, created.body);
  EXPECT_EQ(found.route, "/api/users/{id}/");
}

TEST_F(UsersApiInProcess, ATakenDniIsTheReferencesDetail) {
  call(bhttp::verb::post, "/api/users/", R"({"dni":"123","name":"Ana"})");
  const auto again = call(bhttp::verb::post, "/api/users/", R"({"dni":"123","name":"Bea"})");
  EXPECT_EQ(again.status, 400U);
  EXPECT_EQ(again.body, R"({"detail":"User already exists"})");
}

TEST_F(UsersApiInProcess, AnUnreadableBodyIsRefusedBeforeTheStore) {
  const auto answered = call(bhttp::verb::post, "/api/users/", "dni=1", "text/plain");
  EXPECT_EQ(answered.status, 415U);
  EXPECT_EQ(answered.body, R"({"detail":"Unsupported media type \"text/plain\" in request."})");
}

TEST_F(UsersApiInProcess, AMethodOutsideTheRouteTableIs405WithItsAllow) {
  for (const auto& route : kRouteTable) {
    if (!route.ops) continue;
    std::string target(route.path);
    if (route.kind == RouteKind::kDocsAsset) target = "/api/docs/swagger-ui.css";
    const auto answered = call(bhttp::verb::delete_, target);
    EXPECT_EQ(answered.status, 405U) << target;
    EXPECT_EQ(header(answered, bhttp::field::allow), route.allow) << target;
    EXPECT_EQ(answered.body, R"({"detail":"Method \"DELETE\" not allowed."})") << target;
  }
}

TEST_F(UsersApiInProcess, TargetsThatAreNoRouteGetTheirOwnLabels) {
  EXPECT_EQ(call(bhttp::verb::get, "/nowhere/").route, "not-found");
  EXPECT_EQ(call(bhttp::verb::get, "/api/users").route, "redirect");
  EXPECT_EQ(call(bhttp::verb::get, "*").route, "bad-target");
}

TEST_F(UsersApiInProcess, ABrowserGetsTheBrowsablePageOfTheSameAnswer) {
  call(bhttp::verb::post, "/api/users/", R"({"dni":"123","name":"Ana"})");
  const auto page = call(bhttp::verb::get, "/api/users/1/", {}, {}, "text/html");
  EXPECT_EQ(page.status, 200U);
  EXPECT_EQ(header(page, bhttp::field::content_type), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("Ana"), std::string::npos);
}

TEST_F(UsersApiInProcess, AFailedFormCreateShowsWhatWasSentBesideItsErrors) {
  const auto page =
      call(bhttp::verb::post, "/api/users/", "dni=&name=Zoe", "application/x-www-form-urlencoded", "text/html");
  EXPECT_EQ(page.status, 400U);
  EXPECT_EQ(header(page, bhttp::field::content_type), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("value=\"Zoe\""), std::string::npos);
}

TEST_F(UsersApiInProcess, AListLongerThanOnePageIsStreamedWhole) {
  api_options_.list_page_size = 2;
  for (const char* dni : {"1", "2", "3"}) {
    call(bhttp::verb::post, "/api/users/", std::string(R"({"name":"N","dni":")") + dni + "\"}");
  }
  const auto answered = call(bhttp::verb::get, "/api/users/");
  EXPECT_TRUE(answered.streamed);
  EXPECT_EQ(answered.body,
            R"([{"id":1,"dni":"1","name":"N"},{"id":2,"dni":"2","name":"N"},{"id":3,"dni":"3","name":"N"}])");
}

TEST_F(UsersApiInProcess, EveryRouteLabelIsAMetricsSeries) {
  for (const auto label : kRouteLabels) metrics_.observe_request(label, "GET", 200, std::chrono::milliseconds(1));
  const auto text = metrics_.render({});
  for (const auto label : kRouteLabels) {
    EXPECT_NE(text.find(std::string("route=\"") + std::string(label) + "\""), std::string::npos) << label;
  }
}

}  // namespace
}  // namespace users::api
