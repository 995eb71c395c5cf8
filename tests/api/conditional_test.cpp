// Conditional requests on one user (ETAGS=on): a strong ETag on GET, HEAD,
// PUT and PATCH, 304 for a matching If-None-Match, 412 for an If-Match that
// does not match (and nothing changed), and of two editors holding one tag
// exactly one wins. With the setting off (the default) none of it exists.
// Run on SQLite and, as api_pg.Conditional.*, on PostgreSQL.
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "contract_helpers.hpp"
#include "support/http_client.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using contract::cat;
using contract::header;
using contract::item;
using contract::kItemAllow;
using contract::user_json;

constexpr std::string_view kPreconditionFailed = R"({"detail":"Precondition failed."})";
constexpr std::string_view kNotFound = R"({"detail":"Not found."})";

class Conditional : public ::testing::Test {
 protected:
  explicit Conditional(std::map<std::string, std::string> env = {{"ETAGS", "on"}})
      : server_(with_env(std::move(env))), client_(server_.port()) {}

  HttpResponse write(std::string_view method, std::int64_t id, std::string_view json, std::string_view if_match) {
    Headers headers{{"Content-Type", "application/json"}};
    if (!if_match.empty()) headers.emplace("If-Match", if_match);
    return client_.request(method, item(id), json, headers);
  }
  HttpResponse read(std::string_view method, std::int64_t id, std::string_view if_none_match) {
    Headers headers;
    if (!if_none_match.empty()) headers.emplace("If-None-Match", if_none_match);
    return client_.request(method, item(id), {}, headers);
  }
  HttpResponse remove(std::int64_t id, std::string_view if_match) {
    Headers headers;
    if (!if_match.empty()) headers.emplace("If-Match", if_match);
    return client_.request("DELETE", item(id), {}, headers);
  }
  std::int64_t create(std::string_view dni, std::string_view name) {
    const auto response = client_.post_json(contract::kUsers, cat(R"({"dni":")", dni, R"(","name":")", name, R"("})"));
    EXPECT_EQ(response.result_int(), 201) << response.body();
    const auto value = contract::parse_json(response.body());
    return value.is_object() ? value.at("id").as_int64() : -1;
  }
  std::string etag_of(std::int64_t id) { return header(read("GET", id, {}), "ETag"); }

  TestServer server_;
  HttpClient client_;
};

class WithoutEtags : public Conditional {
 protected:
  WithoutEtags() : Conditional({}) {}
};

void expect_strong_tag(std::string_view tag) {
  static const std::regex kStrong(R"("[0-9a-f]{32}")");
  EXPECT_TRUE(std::regex_match(std::string(tag), kStrong)) << tag;
}

void expect_precondition_failed(const HttpResponse& response) {
  EXPECT_EQ(response.result_int(), 412);
  EXPECT_EQ(response.body(), kPreconditionFailed);
  EXPECT_EQ(header(response, "Content-Type"), "application/json");
  EXPECT_EQ(header(response, "ETag"), "<absent>");
}

TEST_F(WithoutEtags, NoETagIsSentAndConditionalFieldsAreIgnored) {
  const auto id = create("1", "Ana");
  const auto got = read("GET", id, {});
  EXPECT_EQ(got.result_int(), 200);
  EXPECT_EQ(header(got, "ETag"), "<absent>");
  EXPECT_EQ(header(read("HEAD", id, {}), "ETag"), "<absent>");
  const auto star = read("GET", id, "*");
  EXPECT_EQ(star.result_int(), 200);
  EXPECT_EQ(star.body(), user_json(id, "1", "Ana"));

  const auto put = write("PUT", id, R"({"dni":"1","name":"Bea"})", "garbage");
  EXPECT_EQ(put.result_int(), 200);
  EXPECT_EQ(put.body(), user_json(id, "1", "Bea"));
  EXPECT_EQ(header(put, "ETag"), "<absent>");
  const auto patch = write("PATCH", id, R"({"name":"Cid"})", R"("0123456789abcdef0123456789abcdef")");
  EXPECT_EQ(patch.result_int(), 200);
  EXPECT_EQ(header(patch, "ETag"), "<absent>");
  EXPECT_EQ(remove(id, R"("nope")").result_int(), 204);
}

TEST_F(Conditional, GetAndHeadSendOneStrongETag) {
  const auto id = create("1", "Ana");
  const auto got = read("GET", id, {});
  EXPECT_EQ(got.result_int(), 200);
  EXPECT_EQ(got.body(), user_json(id, "1", "Ana"));
  expect_strong_tag(header(got, "ETag"));
  const auto head = read("HEAD", id, {});
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(header(head, "ETag"), header(got, "ETag"));
  EXPECT_EQ(header(head, "Content-Length"), std::to_string(got.body().size()));
  // The 201 carries none: its target is the list.
  const auto created = client_.post_json(contract::kUsers, R"({"dni":"2","name":"Bo"})");
  EXPECT_EQ(created.result_int(), 201);
  EXPECT_EQ(header(created, "ETag"), "<absent>");
  // Another user, another tag.
  EXPECT_NE(etag_of(id + 1), header(got, "ETag"));
}

TEST_F(Conditional, TheETagChangesWithTheUserAndPutAndPatchAnswerTheNewOne) {
  const auto id = create("1", "Ana");
  const auto first = etag_of(id);
  const auto put = write("PUT", id, R"({"dni":"1","name":"Bea"})", {});
  ASSERT_EQ(put.result_int(), 200);
  const auto second = header(put, "ETag");
  expect_strong_tag(second);
  EXPECT_NE(second, first);
  EXPECT_EQ(etag_of(id), second);

  const auto patch = write("PATCH", id, R"({"dni":"2"})", {});
  ASSERT_EQ(patch.result_int(), 200);
  const auto third = header(patch, "ETag");
  EXPECT_NE(third, second);
  EXPECT_NE(third, first);
  EXPECT_EQ(etag_of(id), third);

  // Derived from the content: the same content again is the same tag.
  const auto back = write("PUT", id, R"({"dni":"1","name":"Ana"})", third);
  ASSERT_EQ(back.result_int(), 200);
  EXPECT_EQ(header(back, "ETag"), first);
}

TEST_F(Conditional, AMatchingIfNoneMatchIs304WithoutABody) {
  const auto id = create("1", "Ana");
  const auto tag = etag_of(id);
  for (const std::string& field :
       {tag, cat(R"("other", )", tag), cat("W/", tag), std::string("*"), cat(R"(W/"x",)", tag, R"(, "y")")}) {
    for (const std::string_view method : {"GET", "HEAD"}) {
      SCOPED_TRACE(cat(method, " If-None-Match: ", field));
      const auto response = read(method, id, field);
      EXPECT_EQ(response.result_int(), 304);
      EXPECT_EQ(response.body(), "");
      EXPECT_EQ(header(response, "ETag"), tag);
      EXPECT_EQ(header(response, "Content-Length"), "<absent>");
      EXPECT_EQ(header(response, "Content-Type"), "<absent>");
      EXPECT_EQ(header(response, "Vary"), "Accept");
      EXPECT_EQ(header(response, "Allow"), kItemAllow);
    }
  }
  // No match: the whole answer.
  for (const std::string_view field : {R"("other")", R"(garbage)", R"("0123456789abcdef0123456789abcdef")"}) {
    const auto response = read("GET", id, field);
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), user_json(id, "1", "Ana"));
    EXPECT_EQ(header(response, "ETag"), tag);
  }
}

// On the wire: no Content-Length, no body, and the connection still serves
// the next request; two If-None-Match lines are one list.
TEST_F(Conditional, A304OnTheWireHasNoContentLengthAndKeepsTheConnection) {
  const auto id = create("1", "Ana");
  const auto tag = etag_of(id);
  const std::string path = item(id);
  const auto raw = raw_exchange(
      server_.port(), cat("GET ", path, " HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n", "If-None-Match: ", tag,
                          "\r\n\r\nGET ", path, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << raw;
  const std::string first_head = raw.substr(0, end);
  EXPECT_TRUE(first_head.starts_with("HTTP/1.1 304 Not Modified\r\n")) << raw;
  EXPECT_EQ(first_head.find("Content-Length"), std::string::npos) << first_head;
  EXPECT_NE(first_head.find(cat("ETag: ", tag)), std::string::npos) << first_head;
  EXPECT_TRUE(raw.substr(end + 4).starts_with("HTTP/1.1 200 OK\r\n")) << raw;
}

TEST_F(Conditional, TheBrowsablePageHasNoETagAndIsNeverNotModified) {
  const auto id = create("1", "Ana");
  const auto tag = etag_of(id);
  const auto page = client_.request("GET", item(id), {}, {{"Accept", "text/html"}, {"If-None-Match", tag}});
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_TRUE(header(page, "Content-Type").starts_with("text/html")) << header(page, "Content-Type");
  EXPECT_EQ(header(page, "ETag"), "<absent>");
  EXPECT_FALSE(page.body().empty());
  const auto json = client_.request("GET", cat(item(id), "?format=json"), {}, {{"If-None-Match", tag}});
  EXPECT_EQ(json.result_int(), 304);
}

TEST_F(Conditional, AnIfMatchThatDoesNotMatchIs412AndChangesNothing) {
  const auto id = create("1", "Ana");
  const auto tag = etag_of(id);
  for (const std::string& field : {std::string(R"("0123456789abcdef0123456789abcdef")"), std::string("garbage"),
                                   cat("W/", tag), std::string(R"("a", "b")"), std::string("")}) {
    SCOPED_TRACE(cat("If-Match: ", field));
    Headers headers{{"Content-Type", "application/json"}, {"If-Match", field}};
    expect_precondition_failed(client_.request("PUT", item(id), R"({"dni":"9","name":"Bea"})", headers));
    expect_precondition_failed(client_.request("PATCH", item(id), R"({"name":"Bea"})", headers));
    expect_precondition_failed(client_.request("DELETE", item(id), {}, headers));
    const auto after = read("GET", id, {});
    EXPECT_EQ(after.result_int(), 200);
    EXPECT_EQ(after.body(), user_json(id, "1", "Ana"));
    EXPECT_EQ(header(after, "ETag"), tag);
  }
}

TEST_F(Conditional, TheCurrentTagOrStarLetsTheWriteThrough) {
  const auto id = create("1", "Ana");
  const auto tag = etag_of(id);
  const auto put = write("PUT", id, R"({"dni":"1","name":"Bea"})", cat(R"("stale", )", tag));
  EXPECT_EQ(put.result_int(), 200);
  EXPECT_EQ(put.body(), user_json(id, "1", "Bea"));
  const auto patch = write("PATCH", id, R"({"name":"Cid"})", "*");
  EXPECT_EQ(patch.result_int(), 200);
  EXPECT_EQ(patch.body(), user_json(id, "1", "Cid"));
  EXPECT_EQ(header(patch, "ETag"), etag_of(id));
  EXPECT_EQ(remove(id, "*").result_int(), 204);
  EXPECT_EQ(read("GET", id, {}).result_int(), 404);
}

TEST_F(Conditional, ATagMadeStaleByAnUpdateIs412) {
  const auto id = create("1", "Ana");
  const auto first = etag_of(id);
  const auto put = write("PUT", id, R"({"dni":"1","name":"Bea"})", first);
  ASSERT_EQ(put.result_int(), 200);
  expect_precondition_failed(write("PUT", id, R"({"dni":"1","name":"Cid"})", first));
  expect_precondition_failed(write("PATCH", id, R"({"name":"Cid"})", first));
  expect_precondition_failed(remove(id, first));
  const auto after = read("GET", id, {});
  EXPECT_EQ(after.body(), user_json(id, "1", "Bea"));  // the user still exists, unchanged
  EXPECT_EQ(remove(id, header(put, "ETag")).result_int(), 204);
  EXPECT_EQ(read("GET", id, {}).result_int(), 404);
}

// RFC 9110 13.2.1: without the precondition the answer would be 404, so the
// precondition is not evaluated.
TEST_F(Conditional, AMissingUserIs404WhateverTheIfMatch) {
  for (const std::string_view field : {R"("nope")", "*"}) {
    for (const std::string_view method : {"PUT", "PATCH"}) {
      const auto response = write(method, 999, R"({"dni":"1","name":"Ana"})", field);
      EXPECT_EQ(response.result_int(), 404);
      EXPECT_EQ(response.body(), kNotFound);
    }
    const auto removed = remove(999, field);
    EXPECT_EQ(removed.result_int(), 404);
    EXPECT_EQ(removed.body(), kNotFound);
  }
}

// RFC 9110 13.2.2: preconditions before the request's content is looked at.
TEST_F(Conditional, ThePreconditionComesBeforeTheBody) {
  const auto id = create("1", "Ana");
  expect_precondition_failed(write("PUT", id, R"({})", R"("stale")"));
  expect_precondition_failed(write("PATCH", id, R"({"name":""})", R"("stale")"));
  expect_precondition_failed(write("PUT", id, R"({not json)", R"("stale")"));
  const auto invalid = write("PUT", id, R"({})", etag_of(id));
  EXPECT_EQ(invalid.result_int(), 400);
  EXPECT_EQ(invalid.body(), contract::kBothRequired);
}

// Two editors read the same tag and send different names at the same moment:
// the store checks and writes in one step, so each round one wins (200) and
// the other hears 412, and the stored name is the winner's.
TEST_F(Conditional, OfTwoEditorsHoldingOneTagExactlyOneWins) {
  const int rounds = uses_postgres() ? 50 : 100;
  const auto id = create("1", "Ana");
  std::array<HttpClient, 2> editors{HttpClient(server_.port()), HttpClient(server_.port())};
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(cat("round ", std::to_string(round)));
    const auto tag = etag_of(id);
    std::barrier start(2);
    std::array<HttpResponse, 2> answers;
    std::vector<std::thread> threads;
    for (std::size_t e = 0; e < 2; ++e) {
      threads.emplace_back([&, e] {
        const std::string name = cat(e == 0 ? "A" : "B", std::to_string(round));
        const std::string body = cat(R"({"dni":"1","name":")", name, R"("})");
        start.arrive_and_wait();
        answers.at(e) =
            editors.at(e).request("PUT", item(id), body, {{"Content-Type", "application/json"}, {"If-Match", tag}});
      });
    }
    for (auto& thread : threads) thread.join();
    const std::size_t won = answers[0].result_int() == 200 ? 0 : 1;
    const std::size_t lost = 1 - won;
    ASSERT_EQ(answers[won].result_int(), 200) << answers[won].body();
    ASSERT_EQ(answers[lost].result_int(), 412) << answers[lost].body();
    EXPECT_EQ(answers[lost].body(), kPreconditionFailed);
    const auto stored = read("GET", id, {});
    EXPECT_EQ(stored.body(), answers[won].body());
    EXPECT_EQ(stored.body(), user_json(id, "1", cat(won == 0 ? "A" : "B", std::to_string(round))));
    EXPECT_EQ(header(stored, "ETag"), header(answers[won], "ETag"));
  }
}

}  // namespace
}  // namespace users::testing
