// Message framing per RFC 9112 section 6 and 5.2: a Transfer-Encoding other
// than exactly `chunked` on one line, Transfer-Encoding on HTTP/1.0, and
// obs-fold anywhere in the header are refused and the connection closed, so a
// request pipelined (or smuggled) behind them is never answered.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using namespace std::string_literals;

// Every complete response at the start of `raw`, in order.
std::vector<HttpResponse> parse_responses(std::string_view raw) {
  std::vector<HttpResponse> out;
  while (!raw.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    std::size_t used = 0;
    boost::system::error_code ec;
    while (!parser.is_done() && used < raw.size()) {
      const std::size_t n = parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_more && n > 0) continue;
      if (ec || n == 0) break;
    }
    if (!parser.is_done()) break;
    out.push_back(parser.release());
    raw.remove_prefix(used);
  }
  return out;
}

std::string detail_of(const HttpResponse& response) {
  boost::system::error_code ec;
  const auto json = boost::json::parse(response.body(), ec);
  if (ec || !json.is_object() || !json.as_object().contains("detail")) return "(no detail: " + response.body() + ")";
  return std::string(json.as_object().at("detail").as_string());
}

// A body of one user in chunked encoding.
std::string chunked_user(std::string_view dni) {
  const std::string body = R"({"dni":")" + std::string(dni) + R"(","name":"F"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

std::string post_with(std::string_view version, std::string_view header_lines, std::string_view body) {
  return "POST /api/users/ "s + std::string(version) + "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         std::string(header_lines) + "\r\n" + std::string(body);
}

// What a server that honoured the framing would answer second.
constexpr std::string_view kPipelined = "GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// Sends `request` with kPipelined right behind it, in one write: exactly one
// answer, `status` with a JSON detail, and the connection closed.
void expect_refused_and_closed(TestServer& server, std::string_view label, const std::string& request, int status,
                               std::string_view detail) {
  SCOPED_TRACE(std::string(label));
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request + std::string(kPipelined)));
  EXPECT_TRUE(connection.wait_closed(3s)) << "left open after the refusal; got: " << connection.received();
  const auto responses = parse_responses(connection.received());
  ASSERT_EQ(responses.size(), 1U) << "the pipelined request was answered:\n" << connection.received();
  EXPECT_EQ(responses.front().result_int(), status) << connection.received();
  EXPECT_EQ(std::string(responses.front()[bhttp::field::content_type]), "application/json");
  EXPECT_EQ(detail_of(responses.front()), detail);
  EXPECT_FALSE(responses.front().keep_alive());
}

void expect_nothing_stored(TestServer& server) {
  EXPECT_TRUE(server.running()) << server.stderr_text();
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

constexpr std::string_view kNotChunkedOnce = "Transfer-Encoding must be chunked, once, on one line.";
constexpr std::string_view kNotImplemented = "Transfer codings other than chunked are not implemented.";
constexpr std::string_view kHttp10 = "Transfer-Encoding is not allowed in an HTTP/1.0 request.";
constexpr std::string_view kObsFold = "Obsolete line folding is not allowed in header fields.";

ServerOptions fast_options() {
  return with_env({{"REQUEST_TIMEOUT", "2"}, {"IDLE_TIMEOUT", "5"}});
}

TEST(Framing, ExactlyChunkedOnOneLineIsServedAndThePipelinedRequestToo) {
  // The control for every test below: the same bytes with honest framing get
  // both answers, so "only one answer" there means the second was refused.
  TestServer server(fast_options());
  for (const char* coding : {"chunked", "Chunked", "CHUNKED"}) {
    SCOPED_TRACE(coding);
    RawConnection connection(server.port());
    ASSERT_TRUE(
        connection.send(post_with("HTTP/1.1", "Transfer-Encoding: "s + coding + "\r\n", chunked_user("ok-"s + coding)) +
                        std::string(kPipelined)));
    ASSERT_TRUE(connection.read_until([](std::string_view raw) { return parse_responses(raw).size() == 2; }, 3s))
        << connection.received();
    const auto responses = parse_responses(connection.received());
    EXPECT_EQ(responses[0].result_int(), 201) << responses[0].body();
    EXPECT_EQ(responses[1].result_int(), 200);
    EXPECT_FALSE(connection.closed());
  }
}

TEST(Framing, OtherCodingsBeforeChunkedGet501AndClose) {
  TestServer server(fast_options());
  expect_refused_and_closed(server, "gzip, chunked",
                            post_with("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n", chunked_user("g1")), 501,
                            kNotImplemented);
  expect_refused_and_closed(server, "deflate,chunked",
                            post_with("HTTP/1.1", "Transfer-Encoding: deflate,chunked\r\n", chunked_user("g2")), 501,
                            kNotImplemented);
  expect_nothing_stored(server);
}

TEST(Framing, ChunkedTwiceOrNotLastOrOnTwoLinesGets400AndClose) {
  TestServer server(fast_options());
  expect_refused_and_closed(server, "chunked, chunked",
                            post_with("HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n", chunked_user("c1")), 400,
                            kNotChunkedOnce);
  expect_refused_and_closed(server, "chunked, gzip",
                            post_with("HTTP/1.1", "Transfer-Encoding: chunked, gzip\r\n", chunked_user("c2")), 400,
                            kNotChunkedOnce);
  expect_refused_and_closed(server, "gzip", post_with("HTTP/1.1", "Transfer-Encoding: gzip\r\n", chunked_user("c3")),
                            400, kNotChunkedOnce);
  expect_refused_and_closed(
      server, "two lines: gzip then chunked",
      post_with("HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunked_user("c4")), 400,
      kNotChunkedOnce);
  expect_refused_and_closed(
      server, "two lines: identity then chunked",
      post_with("HTTP/1.1", "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", chunked_user("c5")), 400,
      kNotChunkedOnce);
  expect_nothing_stored(server);
}

TEST(Framing, TransferEncodingOnHttp10Gets400AndCloseEvenWithKeepAlive) {
  TestServer server(fast_options());
  const std::string pipelined_10 = "GET /api/ HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
  expect_refused_and_closed(
      server, "HTTP/1.0, keep-alive, chunked",
      post_with("HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n", chunked_user("h1")) +
          pipelined_10,
      400, kHttp10);
  expect_refused_and_closed(server, "HTTP/1.0, chunked",
                            post_with("HTTP/1.0", "Transfer-Encoding: chunked\r\n", chunked_user("h2")), 400, kHttp10);
  expect_refused_and_closed(server, "HTTP/1.0 GET with keep-alive and Transfer-Encoding",
                            "GET /api/ HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked"
                            "\r\n\r\n0\r\n\r\n"s,
                            400, kHttp10);
  expect_nothing_stored(server);
  // Plain HTTP/1.0 keep-alive without Transfer-Encoding still works.
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(pipelined_10 + pipelined_10));
  ASSERT_TRUE(connection.read_until([](std::string_view raw) { return parse_responses(raw).size() == 2; }, 3s))
      << connection.received();
}

TEST(Framing, ObsFoldInAnyHeaderGets400AndClose) {
  TestServer server(fast_options());
  expect_refused_and_closed(server, "folded Transfer-Encoding (space)",
                            post_with("HTTP/1.1", "Transfer-Encoding: gzip,\r\n chunked\r\n", chunked_user("f1")), 400,
                            kObsFold);
  expect_refused_and_closed(server, "folded Transfer-Encoding (tab)",
                            post_with("HTTP/1.1", "Transfer-Encoding:\r\n\tchunked\r\n", chunked_user("f2")), 400,
                            kObsFold);
  expect_refused_and_closed(server, "folded ordinary header",
                            "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", 400, kObsFold);
  expect_refused_and_closed(server, "folded Host", "GET /api/ HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n", 400, kObsFold);
  expect_nothing_stored(server);
}

TEST(Framing, ObsFoldIsSeenWhenTheHeaderArrivesInPieces) {
  // The guard looks at the bytes before Beast consumes them: a fold that
  // arrives in a later read than the line it continues is still caught, and
  // a space inside the body (after the header) is not a fold.
  TestServer server(fast_options());
  {
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send("GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: one\r\n"));
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(connection.send(" two\r\n\r\n"s + std::string(kPipelined)));
    EXPECT_TRUE(connection.wait_closed(3s)) << connection.received();
    const auto responses = parse_responses(connection.received());
    ASSERT_EQ(responses.size(), 1U) << connection.received();
    EXPECT_EQ(responses.front().result_int(), 400);
    EXPECT_EQ(detail_of(responses.front()), kObsFold);
  }
  {
    RawConnection connection(server.port());
    const std::string body = "{\"dni\":\"sp1\",\r\n \"name\":\"Body\"}";
    ASSERT_TRUE(
        connection.send("POST /api/users/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
    ASSERT_TRUE(connection.read_response()) << connection.received();
    EXPECT_EQ(first_response(connection.received())->result_int(), 201) << connection.received();
  }
}

}  // namespace
}  // namespace users::testing
