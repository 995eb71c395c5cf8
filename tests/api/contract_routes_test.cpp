// api.md "Routes": the seven routes, their success answers, the order of the
// list, ids never reused, query parameters, unknown paths, DRF headers.
#include <filesystem>

#include "api/contract_helpers.hpp"

namespace users::testing::contract {
namespace {

class ContractRoutes : public ContractTest {};

TEST_F(ContractRoutes, RootGivesTheUsersUrlBuiltFromTheRequestHost) {
  const auto response = client_.get("/api/");
  EXPECT_API(response, 200, root_body(server_.port()), kRootAllow);
}

TEST_F(ContractRoutes, RootUsesWhateverHostTheClientSent) {
  EXPECT_API(client_.request("GET", "/api/", {}, {{"Host", "example.com:8080"}}), 200,
             R"({"users":"http://example.com:8080/api/users/"})", kRootAllow);
  EXPECT_API(client_.request("GET", "/api/", {}, {{"Host", "users.internal"}}), 200,
             R"({"users":"http://users.internal/api/users/"})", kRootAllow);
}

TEST_F(ContractRoutes, EmptyListIsAnEmptyArray) {
  EXPECT_LIST_API(list(), 200, "[]");
}

TEST_F(ContractRoutes, CreateAnswers201WithTheCreatedUser) {
  EXPECT_LIST_API(post(R"({"dni":"0987","name":"Ana"})"), 201, R"({"id":1,"dni":"0987","name":"Ana"})");
  EXPECT_LIST_API(post(R"({"dni":"0988","name":"Luis"})"), 201, R"({"id":2,"dni":"0988","name":"Luis"})");
}

TEST_F(ContractRoutes, GetReturnsTheUser) {
  const auto id = create("0987", "Ana");
  EXPECT_ITEM_API(get(id), 200, user_json(id, "0987", "Ana"));
}

TEST_F(ContractRoutes, ListReturnsAllUsersInAscendingIdOrder) {
  const auto a = create("a", "First");
  const auto b = create("b", "Second");
  const auto c = create("c", "Third");
  const auto d = create("d", "Fourth");
  // Changing a user or deleting another must not reorder the list.
  EXPECT_EQ(put(a, R"({"dni":"z","name":"First again"})").result_int(), 200);
  EXPECT_EQ(client_.del(item(c)).result_int(), 204);
  EXPECT_EQ(patch(b, R"({"name":"Second again"})").result_int(), 200);
  EXPECT_LIST_API(
      list(), 200,
      json_array({user_json(a, "z", "First again"), user_json(b, "b", "Second again"), user_json(d, "d", "Fourth")}));
}

// Long lists are written page by page; the answer is one complete array,
// whether the count is exactly a multiple of the page or one more.
TEST_F(ContractRoutes, LongListsAreCompleteAndInOrder) {
  constexpr int kUsersToCreate = 1001;
  std::string expected = "[";
  for (int id = 1; id <= kUsersToCreate; ++id) {
    const std::string dni = std::to_string(id);
    const std::string name = cat("User ", dni);
    const auto response = post(cat(R"({"dni":")", dni, R"(","name":")", name, R"("})"));
    ASSERT_EQ(response.result_int(), 201) << response.body();
    if (id > 1) expected += ',';
    expected += user_json(id, dni, name);
    if (id == 1000) EXPECT_LIST_API(list(), 200, cat(expected, "]"));
  }
  expected += ']';
  EXPECT_LIST_API(list(), 200, expected);
  // The connection stays usable after a long answer and after its HEAD.
  EXPECT_EQ(client_.request("HEAD", kUsers).result_int(), 200);
  EXPECT_ITEM_API(get(kUsersToCreate), 200, user_json(kUsersToCreate, "1001", "User 1001"));
}

TEST_F(ContractRoutes, PutReplacesBothFields) {
  const auto id = create("111", "Old");
  EXPECT_ITEM_API(put(id, R"({"dni":"222","name":"New"})"), 200, user_json(id, "222", "New"));
  EXPECT_ITEM_API(get(id), 200, user_json(id, "222", "New"));
}

TEST_F(ContractRoutes, PatchChangesOnlyTheFieldsSent) {
  const auto id = create("111", "Old");
  EXPECT_ITEM_API(patch(id, R"({"name":"New"})"), 200, user_json(id, "111", "New"));
  EXPECT_ITEM_API(patch(id, R"({"dni":"333"})"), 200, user_json(id, "333", "New"));
  EXPECT_ITEM_API(get(id), 200, user_json(id, "333", "New"));
}

TEST_F(ContractRoutes, DeleteAnswers204WithAnEmptyBodyAndTheUserIsGone) {
  const auto keep = create("1", "Keep");
  const auto gone = create("2", "Gone");
  const auto response = client_.del(item(gone));
  EXPECT_ITEM_API(response, 204, "");
  EXPECT_EQ(header(response, "Content-Length"), "0");
  EXPECT_ITEM_API(get(gone), 404, kNotFoundBody);
  EXPECT_ITEM_API(client_.del(item(gone)), 404, kNotFoundBody);
  EXPECT_LIST_API(list(), 200, json_array({user_json(keep, "1", "Keep")}));
}

TEST_F(ContractRoutes, DeleteFreesTheDniForANewUser) {
  const auto id = create("555", "Ana");
  EXPECT_EQ(client_.del(item(id)).result_int(), 204);
  EXPECT_LIST_API(post(R"({"dni":"555","name":"Ana"})"), 201, user_json(id + 1, "555", "Ana"));
}

TEST_F(ContractRoutes, IdsAreNeverReusedAfterADelete) {
  EXPECT_EQ(create("1", "a"), 1);
  EXPECT_EQ(create("2", "b"), 2);
  EXPECT_EQ(create("3", "c"), 3);
  EXPECT_EQ(client_.del(item(3)).result_int(), 204);  // the highest id
  EXPECT_EQ(create("4", "d"), 4);
  for (const int id : {1, 2, 4}) EXPECT_EQ(client_.del(item(id)).result_int(), 204);
  EXPECT_LIST_API(list(), 200, "[]");
  EXPECT_LIST_API(post(R"({"dni":"5","name":"e"})"), 201, user_json(5, "5", "e"));
}

// The same database file served again: the id sequence survives a restart.
TEST(ContractRoutesRestart, IdsAreNeverReusedAfterARestart) {
  const auto dir = make_temp_dir();
  ServerOptions options;
  options.env["DATABASE_URL"] = cat("sqlite:///", (dir / "db.sqlite3").string());
  {
    TestServer server(options);
    HttpClient client(server.port());
    EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"a"})").result_int(), 201);
    EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"2","name":"b"})").result_int(), 201);
    EXPECT_EQ(client.del("/api/users/2/").result_int(), 204);
    EXPECT_EQ(server.stop(SIGTERM), 0);
  }
  {
    TestServer server(options);
    HttpClient client(server.port());
    EXPECT_LIST_API(client.post_json("/api/users/", R"({"dni":"2","name":"b"})"), 201, user_json(3, "2", "b"));
    EXPECT_LIST_API(client.get("/api/users/"), 200, json_array({user_json(1, "1", "a"), user_json(3, "2", "b")}));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_F(ContractRoutes, UnknownQueryParametersAreIgnored) {
  const auto id = create("123", "Ana");
  const std::string one = json_array({user_json(id, "123", "Ana")});
  EXPECT_LIST_API(client_.get("/api/users/?format=json"), 200, one);
  EXPECT_LIST_API(client_.get("/api/users/?page=2&limit=1&ordering=-id&search=zzz"), 200, one);
  EXPECT_ITEM_API(client_.get(cat(item(id), "?format=json&x=1")), 200, user_json(id, "123", "Ana"));
  EXPECT_API(client_.get("/api/?format=json"), 200, root_body(server_.port()), kRootAllow);
  EXPECT_LIST_API(client_.post_json("/api/users/?format=json&dni=999", R"({"dni":"124","name":"Bo"})"), 201,
                  user_json(id + 1, "124", "Bo"));
  EXPECT_ITEM_API(client_.patch_json(cat(item(id), "?name=ignored"), R"({"dni":"125"})"), 200,
                  user_json(id, "125", "Ana"));
  EXPECT_ITEM_API(client_.request("DELETE", cat(item(id + 1), "?format=json")), 204, "");
}

TEST_F(ContractRoutes, UnknownPathsAnswer404WithTheJsonDetail) {
  for (const char* path : {"/", "/nope/", "/api/nope/", "/api/users/1/extra/", "/api/users//", "/api/users/1.5/",
                           "/API/users/", "/api/users/../", "/users/"}) {
    SCOPED_TRACE(path);
    EXPECT_JSON(client_.get(path), 404, kNotFoundBody);
  }
  EXPECT_JSON(client_.post_json("/api/nope/", R"({"dni":"1","name":"a"})"), 404, kNotFoundBody);
  EXPECT_JSON(client_.request("DELETE", "/nope/"), 404, kNotFoundBody);
  EXPECT_JSON(client_.request("FOO", "/nope/"), 404, kNotFoundBody);
}

// DRF adds Allow and Vary: Accept to every answer of its views.
TEST_F(ContractRoutes, EveryApiAnswerCarriesAllowAndVary) {
  EXPECT_API(client_.get("/api/"), 200, root_body(server_.port()), kRootAllow);
  EXPECT_LIST_API(post(R"({"dni":"1","name":"a"})"), 201, user_json(1, "1", "a"));
  EXPECT_LIST_API(post("{}"), 400, kBothRequired);
  EXPECT_LIST_API(list(), 200, json_array({user_json(1, "1", "a")}));
  EXPECT_LIST_API(send("POST", kUsers, "x", "text/plain"), 415,
                  R"({"detail":"Unsupported media type \"text/plain\" in request."})");
  EXPECT_ITEM_API(get(1), 200, user_json(1, "1", "a"));
  EXPECT_ITEM_API(put(1, R"({"dni":"1","name":"b"})"), 200, user_json(1, "1", "b"));
  EXPECT_ITEM_API(patch(1, R"({"name":""})"), 400, R"({"name":["This field may not be blank."]})");
  EXPECT_ITEM_API(get(2), 404, kNotFoundBody);
  EXPECT_ITEM_API(client_.request("POST", item(1)), 405, R"({"detail":"Method \"POST\" not allowed."})");
  EXPECT_ITEM_API(client_.del(item(1)), 204, "");
}

}  // namespace
}  // namespace users::testing::contract
