// The list's filters (LIST_FILTERS), orderings and DRF's three paginators
// (PAGINATION), over real HTTP on both backends: the shapes byte for byte,
// the rules DRF applies to bad parameters, and walks that follow `next`.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/contract_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace json = boost::json;
using contract::cat;

std::string user_json(std::int64_t id, std::string_view dni, std::string_view name) {
  json::object user{{"id", id}, {"dni", dni}, {"name", name}};
  return json::serialize(user);
}

std::vector<std::int64_t> ids_in(const json::array& users) {
  std::vector<std::int64_t> ids;
  for (const auto& user : users) ids.push_back(user.at("id").as_int64());
  return ids;
}

std::vector<std::int64_t> ids_of_list(const HttpResponse& response) {
  return ids_in(json::parse(response.body()).as_array());
}

std::optional<std::string> link(const json::object& page, std::string_view name) {
  const auto& value = page.at(name);
  if (value.is_null()) return std::nullopt;
  return std::string(value.as_string());
}

// The target of an absolute link the server wrote (its origin checked).
std::string target_of(const std::string& url, std::uint16_t port) {
  const std::string origin = cat("http://127.0.0.1:", std::to_string(port));
  EXPECT_TRUE(url.starts_with(origin)) << url;
  return url.substr(origin.size());
}

class ListFixture : public ::testing::Test {
 protected:
  explicit ListFixture(std::map<std::string, std::string> env)
      : server_(with_env(std::move(env))), client_(server_.port()) {}

  std::int64_t create(std::string_view dni, std::string_view name) {
    const auto response = client_.post_json("/api/users/", json::serialize(json::object{{"dni", dni}, {"name", name}}));
    EXPECT_EQ(response.result_int(), 201) << response.body();
    return json::parse(response.body()).at("id").as_int64();
  }

  json::object page(std::string_view target, int status = 200) {
    const auto response = client_.get(target);
    EXPECT_EQ(response.result_int(), status) << target << " " << response.body();
    EXPECT_EQ(response[boost::beast::http::field::content_type], "application/json") << target;
    return json::parse(response.body()).as_object();
  }

  // The absolute URL of the list with `query`, as the server writes its links.
  [[nodiscard]] std::string url(std::string_view query) const {
    return cat("http://127.0.0.1:", std::to_string(server_.port()), "/api/users/", query);
  }

  TestServer server_;
  HttpClient client_;
};

std::string list_target(std::string_view query) {
  return cat("/api/users/", query);
}

class ListFilters : public ListFixture {
 protected:
  ListFilters() : ListFixture({{"LIST_FILTERS", "dni, search,ordering"}}) {}

  void SetUp() override {
    ana_ = create("111A", "Ana Lopez");
    bea_ = create("222B", "Bea Ana");
    cid_ = create("333C", "Cid");
    dora_ = create("ana", "Dora");
  }

  std::vector<std::int64_t> ids(std::string_view target) {
    const auto response = client_.get(target);
    EXPECT_EQ(response.result_int(), 200) << target << " " << response.body();
    return ids_of_list(response);
  }

  std::int64_t ana_ = 0, bea_ = 0, cid_ = 0, dora_ = 0;
};

TEST_F(ListFilters, DniIsExactAfterDjangoFiltersStripAndSkipsWhenBlank) {
  EXPECT_EQ(client_.get("/api/users/?dni=222B").body(), cat("[", user_json(bea_, "222B", "Bea Ana"), "]"));
  EXPECT_EQ(ids("/api/users/?dni=%20222B%20"), (std::vector<std::int64_t>{bea_}));
  EXPECT_EQ(ids("/api/users/?dni=222b"), (std::vector<std::int64_t>{}));  // exact: case counts
  EXPECT_EQ(ids("/api/users/?dni=22"), (std::vector<std::int64_t>{}));    // exact: no containment
  EXPECT_EQ(ids("/api/users/?dni="), (std::vector<std::int64_t>{ana_, bea_, cid_, dora_}));
  EXPECT_EQ(ids("/api/users/?dni=nobody&dni=333C"), (std::vector<std::int64_t>{cid_}));  // QueryDict.get: the last
  const auto nul = client_.get("/api/users/?dni=1%002");
  EXPECT_EQ(nul.result_int(), 400);
  EXPECT_EQ(nul.body(), R"({"dni":["Null characters are not allowed."]})");
}

TEST_F(ListFilters, SearchNeedsEveryTermInTheDniOrTheNameIgnoringCase) {
  EXPECT_EQ(ids("/api/users/?search=ANA"), (std::vector<std::int64_t>{ana_, bea_, dora_}));
  EXPECT_EQ(ids("/api/users/?search=ana+b"), (std::vector<std::int64_t>{bea_}));  // "222B" and "Bea Ana"
  EXPECT_EQ(ids("/api/users/?search=ana,lopez"), (std::vector<std::int64_t>{ana_}));
  EXPECT_EQ(ids("/api/users/?search=%20,%20"), (std::vector<std::int64_t>{ana_, bea_, cid_, dora_}));  // no terms
  EXPECT_EQ(ids("/api/users/?search=%25"), (std::vector<std::int64_t>{}));         // '%' is no wildcard
  EXPECT_EQ(ids("/api/users/?search=_"), (std::vector<std::int64_t>{}));           // nor is '_'
  EXPECT_EQ(ids("/api/users/?search=c%00id"), (std::vector<std::int64_t>{cid_}));  // NULs dropped, as DRF does
  EXPECT_EQ(ids("/api/users/?search=ana&dni=ana"), (std::vector<std::int64_t>{dora_}));
}

TEST_F(ListFilters, OrderingTakesKnownFieldsEitherWayAndIgnoresTheRest) {
  EXPECT_EQ(ids("/api/users/?ordering=-id"), (std::vector<std::int64_t>{dora_, cid_, bea_, ana_}));
  EXPECT_EQ(ids("/api/users/?ordering=name"), (std::vector<std::int64_t>{ana_, bea_, cid_, dora_}));
  EXPECT_EQ(ids("/api/users/?ordering=-dni"), (std::vector<std::int64_t>{dora_, cid_, bea_, ana_}));
  EXPECT_EQ(ids("/api/users/?ordering=bogus,%20-name%20"), (std::vector<std::int64_t>{dora_, cid_, bea_, ana_}));
  EXPECT_EQ(ids("/api/users/?ordering=bogus"), (std::vector<std::int64_t>{ana_, bea_, cid_, dora_}));  // default: id
  EXPECT_EQ(ids("/api/users/?ordering="), (std::vector<std::int64_t>{ana_, bea_, cid_, dora_}));
  EXPECT_EQ(ids("/api/users/?search=ana&ordering=-name"), (std::vector<std::int64_t>{dora_, bea_, ana_}));
}

// Off unless named: with only `dni` on, ?search= and ?ordering= are ignored.
TEST(ListFilterSettings, OnlyTheNamedFiltersApply) {
  TestServer server(with_env({{"LIST_FILTERS", "dni"}}));
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"a"})").result_int(), 201);
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"2","name":"b"})").result_int(), 201);
  EXPECT_EQ(ids_of_list(client.get("/api/users/?search=zzz&ordering=-id")), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids_of_list(client.get("/api/users/?dni=2")), (std::vector<std::int64_t>{2}));
  const auto refused = run_binary({"serve"}, {{"LIST_FILTERS", "dni,color"}});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("LIST_FILTERS"), std::string::npos) << refused.err;
}

// A filtered, ordered list longer than one chunk (1000 users) is streamed,
// chunk after chunk, by the same query: every match once, in order.
TEST(ListFilterStreams, AFilteredOrderedListLongerThanAChunkStreamsWhole) {
  TestServer server(with_env({{"LIST_FILTERS", "search,ordering"}}));
  insert_users(server, 2500);  // dni "%09dX", names "User number N"
  HttpClient client(server.port());
  const auto response = client.get("/api/users/?search=1&ordering=-dni");
  ASSERT_EQ(response.result_int(), 200);
  const auto users = json::parse(response.body()).as_array();
  // The numbers 1..2500 with a digit 1 (in the dni and the name alike).
  std::size_t expected = 0;
  for (int n = 1; n <= 2500; ++n) expected += std::to_string(n).find('1') != std::string::npos ? 1U : 0U;
  ASSERT_GT(expected, 1000U);
  ASSERT_EQ(users.size(), expected);
  for (std::size_t i = 1; i < users.size(); ++i) {
    EXPECT_GT(users[i - 1].at("dni").as_string(), users[i].at("dni").as_string()) << i;
  }
  EXPECT_EQ(users.front().at("name").as_string(), "User number 2491");
  EXPECT_EQ(users.back().at("name").as_string(), "User number 1");
}

class LimitOffset : public ListFixture {
 protected:
  LimitOffset()
      : ListFixture(
            {{"PAGINATION", "limit_offset"}, {"PAGE_SIZE", "2"}, {"MAX_PAGE_SIZE", "3"}, {"LIST_FILTERS", "search"}}) {}
  void SetUp() override {
    for (int i = 1; i <= 5; ++i) create(std::to_string(i), cat("n", std::to_string(i)));
  }
};

TEST_F(LimitOffset, AnswersDrfsShapeWithLinksThatKeepTheOtherParameters) {
  const auto first = client_.get("/api/users/");
  ASSERT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), cat(R"({"count":5,"next":")", url("?limit=2&offset=2"), R"(","previous":null,"results":[)",
                              user_json(1, "1", "n1"), ",", user_json(2, "2", "n2"), "]}"));
  const auto middle = page("/api/users/?offset=2&search=n");
  EXPECT_EQ(middle.at("count").as_int64(), 5);
  EXPECT_EQ(link(middle, "next"), url("?limit=2&offset=4&search=n"));  // sorted by name, as DRF writes them
  EXPECT_EQ(link(middle, "previous"), url("?limit=2&search=n"));       // back at 0: no offset
  EXPECT_EQ(ids_in(middle.at("results").as_array()), (std::vector<std::int64_t>{3, 4}));
  const auto last = page("/api/users/?offset=4");
  EXPECT_EQ(link(last, "next"), std::nullopt);
  EXPECT_EQ(link(last, "previous"), url("?limit=2&offset=2"));
  EXPECT_EQ(ids_in(last.at("results").as_array()), (std::vector<std::int64_t>{5}));
}

TEST_F(LimitOffset, BadValuesFallBackAsDrfsDoAndTheLimitIsCapped) {
  for (const char* bad : {"?limit=0", "?limit=-1", "?limit=x", "?limit=1.5", "?limit="}) {
    EXPECT_EQ(page(list_target(bad)).at("results").as_array().size(), 2U) << bad;  // PAGE_SIZE
  }
  EXPECT_EQ(page("/api/users/?limit=100").at("results").as_array().size(), 3U);        // MAX_PAGE_SIZE
  EXPECT_EQ(page("/api/users/?limit=%201_0%20").at("results").as_array().size(), 3U);  // Python's int()
  EXPECT_EQ(ids_in(page("/api/users/?offset=-3").at("results").as_array()), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids_in(page("/api/users/?offset=zz").at("results").as_array()), (std::vector<std::int64_t>{1, 2}));
  const auto beyond = page("/api/users/?offset=50");
  EXPECT_TRUE(beyond.at("results").as_array().empty());
  EXPECT_EQ(beyond.at("count").as_int64(), 5);
  EXPECT_EQ(link(beyond, "next"), std::nullopt);
  EXPECT_EQ(link(beyond, "previous"), url("?limit=2&offset=48"));
  const auto none = page("/api/users/?search=nobody");
  EXPECT_EQ(none.at("count").as_int64(), 0);
  EXPECT_EQ(link(none, "next"), std::nullopt);
}

class PageNumber : public ListFixture {
 protected:
  PageNumber() : ListFixture({{"PAGINATION", "page_number"}, {"PAGE_SIZE", "2"}, {"MAX_PAGE_SIZE", "4"}}) {}
  void SetUp() override {
    for (int i = 1; i <= 5; ++i) create(std::to_string(i), cat("n", std::to_string(i)));
  }
};

TEST_F(PageNumber, AnswersDrfsShapeAndPagesPastTheEndAre404) {
  const auto first = page("/api/users/");
  EXPECT_EQ(first.at("count").as_int64(), 5);
  EXPECT_EQ(link(first, "next"), url("?page=2"));
  EXPECT_EQ(link(first, "previous"), std::nullopt);
  const auto second = page("/api/users/?page=2&format=json");
  EXPECT_EQ(link(second, "previous"), url("?format=json"));  // page 1 has no page parameter
  EXPECT_EQ(link(second, "next"), url("?format=json&page=3"));
  EXPECT_EQ(ids_in(page("/api/users/?page=last").at("results").as_array()), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(ids_in(page("/api/users/?page=").at("results").as_array()), (std::vector<std::int64_t>{1, 2}));
  const auto sized = page("/api/users/?page=2&page_size=3");
  EXPECT_EQ(ids_in(sized.at("results").as_array()), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(link(sized, "previous"), url("?page_size=3"));
  EXPECT_EQ(page("/api/users/?page_size=100").at("results").as_array().size(), 4U);  // capped
  EXPECT_EQ(page("/api/users/?page_size=0").at("results").as_array().size(), 2U);    // PAGE_SIZE
  for (const char* bad : {"?page=4", "?page=0", "?page=-1", "?page=x", "?page=1.0", "?page=99999999999999999999"}) {
    const auto response = client_.get(list_target(bad));
    EXPECT_EQ(response.result_int(), 404) << bad;
    EXPECT_EQ(response.body(), R"({"detail":"Invalid page."})") << bad;
  }
}

class CursorPages : public ListFixture {
 protected:
  CursorPages() : ListFixture({{"PAGINATION", "cursor"}, {"PAGE_SIZE", "3"}, {"LIST_FILTERS", "ordering"}}) {}

  // Follows `next` from `target`: every id seen, in order.
  std::vector<std::int64_t> walk(std::string target, const std::function<void(int)>& between = {}) {
    std::vector<std::int64_t> seen;
    for (int pages = 0; pages < 1000; ++pages) {
      const auto current = page(target);
      EXPECT_FALSE(current.contains("count"));
      for (const auto id : ids_in(current.at("results").as_array())) seen.push_back(id);
      const auto next = link(current, "next");
      if (!next) break;
      target = target_of(*next, server_.port());
      if (between) between(pages);
    }
    return seen;
  }
};

TEST_F(CursorPages, FollowingNextVisitsEveryUserOnceAndPreviousComesBack) {
  for (int i = 1; i <= 8; ++i) create(std::to_string(i), i % 2 == 0 ? "even" : "odd");
  EXPECT_EQ(walk("/api/users/"), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(walk("/api/users/?ordering=-name"), (std::vector<std::int64_t>{1, 3, 5, 7, 2, 4, 6, 8}));

  const auto first = page("/api/users/");
  EXPECT_EQ(link(first, "previous"), std::nullopt);
  const auto second = page(target_of(*link(first, "next"), server_.port()));
  EXPECT_EQ(ids_in(second.at("results").as_array()), (std::vector<std::int64_t>{4, 5, 6}));
  const auto back = page(target_of(*link(second, "previous"), server_.port()));
  EXPECT_EQ(ids_in(back.at("results").as_array()), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(link(back, "previous"), std::nullopt);  // the start again
  EXPECT_EQ(link(back, "next"), link(first, "next"));
  const auto third = page(target_of(*link(second, "next"), server_.port()));
  EXPECT_EQ(ids_in(third.at("results").as_array()), (std::vector<std::int64_t>{7, 8}));
  EXPECT_EQ(link(third, "next"), std::nullopt);
  EXPECT_EQ(page("/api/users/?page_size=5").at("results").as_array().size(), 5U);
}

TEST_F(CursorPages, UsersCreatedDuringAWalkAreSeenOnceAndNoneTwice) {
  for (int i = 1; i <= 10; ++i) create(std::to_string(i), "n");
  int created = 0;
  const auto seen = walk("/api/users/", [&](int) { create(cat("new", std::to_string(++created)), "m"); });
  std::set<std::int64_t> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), seen.size()) << "a user seen twice";
  for (std::int64_t id = 1; id <= 10 + created; ++id) EXPECT_TRUE(distinct.contains(id)) << id;
}

TEST_F(CursorPages, ACursorThatDoesNotDecodeIs404) {
  create("1", "a");
  for (const char* bad : {"?cursor=", "?cursor=zz", "?cursor=cj0xJmk9eA", "?cursor=%FF%FE", "?cursor=cj0y"}) {
    const auto response = client_.get(list_target(bad));
    EXPECT_EQ(response.result_int(), 404) << bad;
    EXPECT_EQ(response.body(), R"({"detail":"Invalid cursor"})") << bad;
  }
}

// The browsable list page shows the page's users and links to the pages
// beside it (HTML-escaped), and keeps ?format=api in them.
TEST_F(PageNumber, TheBrowsablePageShowsThePageAndItsLinks) {
  const auto response = client_.get("/api/users/?format=api&page=2");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_TRUE(std::string(response[boost::beast::http::field::content_type]).starts_with("text/html"));
  const std::string& html = response.body();
  EXPECT_NE(html.find(cat(R"(id="previous-page" href=")", url("?format=api"), R"(")")), std::string::npos) << html;
  EXPECT_NE(html.find(cat(R"(id="next-page" href=")", url("?format=api&amp;page=3"), R"(")")), std::string::npos)
      << html;
  EXPECT_NE(html.find(R"(<a href="/api/users/3/">3</a>)"), std::string::npos);
  EXPECT_EQ(html.find(R"(<a href="/api/users/1/">1</a>)"), std::string::npos) << "page 1's user on page 2";
  const auto last = client_.get("/api/users/?format=api&page=last");
  EXPECT_EQ(last.body().find("id=\"next-page\""), std::string::npos);
}

// Links behind a proxy: X-Forwarded-Proto and -Host count only from a
// trusted one.
TEST(PageLinks, ForwardedSchemeAndHostCountOnlyFromTrustedProxies) {
  for (const bool trusted : {false, true}) {
    std::map<std::string, std::string> env{{"PAGINATION", "page_number"}, {"PAGE_SIZE", "1"}};
    if (trusted) env["TRUSTED_PROXIES"] = "127.0.0.1";
    TestServer server(with_env(env));
    HttpClient client(server.port());
    ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"1","name":"a"})").result_int(), 201);
    ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"2","name":"b"})").result_int(), 201);
    const auto response = client.request(
        "GET", "/api/users/", {},
        {{"Host", "api.example"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "users.example.com"}});
    ASSERT_EQ(response.result_int(), 200) << response.body();
    const auto next = link(json::parse(response.body()).as_object(), "next");
    EXPECT_EQ(next, trusted ? "https://users.example.com/api/users/?page=2" : "http://api.example/api/users/?page=2");
  }
}

}  // namespace
}  // namespace users::testing
