// api.md "Routes": 405 with Allow, 301 for a missing trailing slash, HEAD
// like GET without a body, OPTIONS with DRF's description of the route.
#include <algorithm>

#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

std::string not_allowed(std::string_view method) {
  return cat(R"({"detail":"Method \")", method, R"(\" not allowed."})");
}

class ContractMethods : public ContractTest {};

TEST_F(ContractMethods, CollectionRefusesPutPatchDeleteWith405AndAllow) {
  EXPECT_LIST_API(client_.request("DELETE", kUsers), 405, R"({"detail":"Method \"DELETE\" not allowed."})");
  EXPECT_LIST_API(client_.put_json(kUsers, R"({"dni":"1","name":"a"})"), 405, not_allowed("PUT"));
  EXPECT_LIST_API(client_.patch_json(kUsers, R"({"dni":"1","name":"a"})"), 405, not_allowed("PATCH"));
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractMethods, ItemRefusesPostWith405AndAllowWhetherOrNotTheUserExists) {
  const auto id = create("1", "a");
  EXPECT_ITEM_API(client_.post_json(item(id), R"({"dni":"2","name":"b"})"), 405, not_allowed("POST"));
  EXPECT_ITEM_API(client_.post_json(item(99), R"({"dni":"2","name":"b"})"), 405, not_allowed("POST"));
  EXPECT_ITEM_API(client_.post_json("/api/users/abc/", "{"), 405, not_allowed("POST"));
  EXPECT_LIST_API(list(), 200, json_array({user_json(id, "1", "a")}));
}

TEST_F(ContractMethods, RootRefusesWritesWith405AndAllow) {
  EXPECT_API(client_.post_json("/api/", "{}"), 405, not_allowed("POST"), kRootAllow);
  EXPECT_API(client_.request("DELETE", "/api/"), 405, not_allowed("DELETE"), kRootAllow);
  EXPECT_API(client_.put_json("/api/", "{}"), 405, not_allowed("PUT"), kRootAllow);
}

TEST_F(ContractMethods, UnknownMethodsAnswer405NamingTheMethod) {
  const auto id = create("1", "a");
  EXPECT_LIST_API(client_.request("FOO", kUsers), 405, not_allowed("FOO"));
  EXPECT_ITEM_API(client_.request("FOO", item(id)), 405, not_allowed("FOO"));
  EXPECT_ITEM_API(client_.request("FOO", item(99)), 405, not_allowed("FOO"));
  EXPECT_API(client_.request("FOO", "/api/"), 405, not_allowed("FOO"), kRootAllow);
  EXPECT_LIST_API(client_.request("TRACE", kUsers), 405, not_allowed("TRACE"));
  EXPECT_ITEM_API(client_.request("PROPFIND", item(id)), 405, not_allowed("PROPFIND"));
  EXPECT_ITEM_API(get(id), 200, user_json(id, "1", "a"));
}

class ContractRedirects : public ContractTest {
 protected:
  void expect_redirect(std::string_view method, std::string_view target, std::string_view location) {
    SCOPED_TRACE(cat(method, " ", target));
    const auto response = client_.request(method, target);
    EXPECT_EQ(response.result_int(), 301);
    EXPECT_EQ(header(response, "Location"), location);
    EXPECT_EQ(response.body(), "");
  }
};

TEST_F(ContractRedirects, GetWithoutTheTrailingSlashAnswers301ToThePathWithIt) {
  expect_redirect("GET", "/api/users", "/api/users/");
  expect_redirect("GET", "/api/users/7", "/api/users/7/");  // whether or not user 7 exists
  expect_redirect("GET", "/api", "/api/");
}

TEST_F(ContractRedirects, HeadWithoutTheTrailingSlashAnswers301ToThePathWithIt) {
  expect_redirect("HEAD", "/api/users", "/api/users/");
  expect_redirect("HEAD", "/api/users/7", "/api/users/7/");
  expect_redirect("HEAD", "/api", "/api/");
}

TEST_F(ContractRedirects, TheQueryStringIsKept) {
  expect_redirect("GET", "/api/users?format=json", "/api/users/?format=json");
  expect_redirect("GET", "/api/users/7?a=1&b=%20x", "/api/users/7/?a=1&b=%20x");
  expect_redirect("GET", "/api?format=json", "/api/?format=json");
}

TEST_F(ContractRedirects, TheRedirectTargetAnswers) {
  const auto id = create("1", "a");
  const auto response = client_.get(cat("/api/users/", std::to_string(id)));
  ASSERT_EQ(response.result_int(), 301);
  EXPECT_ITEM_API(client_.get(header(response, "Location")), 200, user_json(id, "1", "a"));
}

class ContractHead : public ContractTest {
 protected:
  // HEAD answers what GET answers, with no body but GET's Content-Length.
  void expect_head_like_get(std::string_view target) {
    SCOPED_TRACE(target);
    const auto got = client_.get(target);
    const auto head = client_.request("HEAD", target);
    EXPECT_EQ(head.result_int(), got.result_int());
    EXPECT_EQ(head.body(), "");
    EXPECT_EQ(header(head, "Content-Length"), std::to_string(got.body().size()));
    for (const char* name : {"Content-Type", "Allow", "Vary"}) EXPECT_EQ(header(head, name), header(got, name)) << name;
  }
};

TEST_F(ContractHead, HeadAnswersLikeGetWithoutABody) {
  create("1", "Ana");
  create("2", "Luis María");
  expect_head_like_get("/api/");
  expect_head_like_get("/api/users/");
  expect_head_like_get("/api/users/1/");
  expect_head_like_get("/api/users/2/");
  expect_head_like_get("/api/users/01/");
  expect_head_like_get("/api/users/99/");  // 404
  expect_head_like_get("/api/users/abc/");
  expect_head_like_get("/api/users/?format=json");
}

// On the wire: nothing follows the header section of a HEAD answer.
TEST_F(ContractHead, NoBodyBytesFollowTheHeadersOnTheWire) {
  create("1", "Ana");
  const std::string raw =
      raw_exchange(server_.port(), "HEAD /api/users/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                   std::chrono::seconds(5));
  const auto end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << raw;
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 ")) << raw;
  EXPECT_EQ(raw.size(), end + 4) << "body bytes after a HEAD answer: " << raw.substr(end + 4);
  const std::string length = cat("\r\nContent-Length: ", std::to_string(user_json(1, "1", "Ana").size()), "\r\n");
  EXPECT_NE(raw.find(length), std::string::npos) << raw;
}

class ContractOptions : public ContractTest {
 protected:
  // Checks DRF's metadata field description of a user (what POST and PUT take).
  static void expect_user_fields(const boost::json::value& fields) {
    ASSERT_TRUE(fields.is_object()) << fields;
    const auto& dni = fields.at("dni");
    EXPECT_EQ(dni.at("type").as_string(), "string");
    EXPECT_EQ(dni.at("required").as_bool(), true);
    EXPECT_EQ(dni.at("read_only").as_bool(), false);
    EXPECT_EQ(dni.at("max_length").to_number<int>(), 13);
    const auto& name = fields.at("name");
    EXPECT_EQ(name.at("type").as_string(), "string");
    EXPECT_EQ(name.at("required").as_bool(), true);
    EXPECT_EQ(name.at("read_only").as_bool(), false);
    EXPECT_EQ(name.at("max_length").to_number<int>(), 30);
    const auto& id = fields.at("id");
    EXPECT_EQ(id.at("type").as_string(), "integer");
    EXPECT_EQ(id.at("read_only").as_bool(), true);
    EXPECT_EQ(id.at("required").as_bool(), false);
  }

  static void expect_media_types(const boost::json::value& doc) {
    const auto& renders = doc.at("renders").as_array();
    const auto& parses = doc.at("parses").as_array();
    EXPECT_NE(std::find(renders.begin(), renders.end(), boost::json::value("application/json")), renders.end());
    for (const char* type : {"application/json", "application/x-www-form-urlencoded"}) {
      EXPECT_NE(std::find(parses.begin(), parses.end(), boost::json::value(type)), parses.end()) << type;
    }
  }

  static boost::json::value options_document(const HttpResponse& response, std::string_view allow) {
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(header(response, "Content-Type"), "application/json");
    EXPECT_EQ(header(response, "Allow"), allow);
    EXPECT_EQ(header(response, "Vary"), "Accept");
    return parse_json(response.body());
  }
};

TEST_F(ContractOptions, CollectionDescribesItselfAndWhatPostTakes) {
  const auto doc = options_document(client_.request("OPTIONS", kUsers), kListAllow);
  ASSERT_TRUE(doc.is_object()) << doc;
  EXPECT_EQ(doc.at("name").as_string(), "User List");
  ASSERT_NO_FATAL_FAILURE(expect_media_types(doc));
  const auto& actions = doc.at("actions").as_object();
  EXPECT_EQ(actions.size(), 1u) << doc;
  ASSERT_TRUE(actions.contains("POST")) << doc;
  expect_user_fields(actions.at("POST"));
}

TEST_F(ContractOptions, ExistingItemDescribesItselfAndWhatPutTakes) {
  const auto id = create("1", "a");
  const auto doc = options_document(client_.request("OPTIONS", item(id)), kItemAllow);
  ASSERT_TRUE(doc.is_object()) << doc;
  EXPECT_EQ(doc.at("name").as_string(), "User Instance");
  ASSERT_NO_FATAL_FAILURE(expect_media_types(doc));
  const auto& actions = doc.at("actions").as_object();
  EXPECT_EQ(actions.size(), 1u) << doc;
  ASSERT_TRUE(actions.contains("PUT")) << doc;
  expect_user_fields(actions.at("PUT"));
}

// DRF leaves out "actions" when it cannot fetch the object, but still answers 200.
TEST_F(ContractOptions, MissingItemIsDescribedWithoutActions) {
  for (const char* target : {"/api/users/99/", "/api/users/abc/"}) {
    SCOPED_TRACE(target);
    const auto doc = options_document(client_.request("OPTIONS", target), kItemAllow);
    ASSERT_TRUE(doc.is_object()) << doc;
    EXPECT_EQ(doc.at("name").as_string(), "User Instance");
    EXPECT_FALSE(doc.as_object().contains("actions")) << doc;
  }
}

TEST_F(ContractOptions, RootDescribesItself) {
  const auto doc = options_document(client_.request("OPTIONS", "/api/"), kRootAllow);
  ASSERT_TRUE(doc.is_object()) << doc;
  EXPECT_EQ(doc.at("name").as_string(), "Api Root");
  EXPECT_EQ(doc.at("description").as_string(), "The default basic root view for DefaultRouter");
  EXPECT_FALSE(doc.as_object().contains("actions")) << doc;
}

TEST_F(ContractOptions, OptionsChangesNothing) {
  const auto id = create("1", "a");
  EXPECT_EQ(client_.request("OPTIONS", item(id), R"({"dni":"2","name":"b"})", {{"Content-Type", "application/json"}})
                .result_int(),
            200);
  EXPECT_EQ(client_.request("OPTIONS", kUsers, R"({"dni":"2","name":"b"})", {{"Content-Type", "application/json"}})
                .result_int(),
            200);
  EXPECT_LIST_API(list(), 200, json_array({user_json(id, "1", "a")}));
}

}  // namespace
}  // namespace users::testing::contract
