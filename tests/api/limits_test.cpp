// Limits the server enforces on its own, before any handler: body and header
// sizes, slow and idle clients, the connection cap, and Expect: 100-continue.
// Every limit is set small through the environment so the tests stay fast.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string post_head(std::size_t content_length, std::string_view extra_headers = {}) {
  return "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n" + std::string(extra_headers) + "\r\n";
}

// A valid user document padded with trailing white space to exactly `size` bytes.
std::string user_body_of_size(std::string_view dni, std::size_t size) {
  std::string body = R"({"dni":")" + std::string(dni) + R"(","name":"Padded"})";
  if (body.size() > size) throw std::logic_error("body too small");
  body.append(size - body.size(), ' ');
  return body;
}

std::string chunked(std::string_view body, std::size_t piece) {
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    const auto part = body.substr(at, piece);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size;
    out += part;
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

// The server's own error answers: the status, a JSON {"detail": "..."} body.
void expect_json_error(const std::optional<HttpResponse>& response, int status, std::string_view detail = {}) {
  ASSERT_TRUE(response.has_value()) << "no parseable response";
  EXPECT_EQ(response->result_int(), status) << response->body();
  EXPECT_EQ(std::string((*response)[boost::beast::http::field::content_type]), "application/json");
  boost::system::error_code ec;
  const auto json = boost::json::parse(response->body(), ec);
  ASSERT_FALSE(ec) << response->body();
  ASSERT_TRUE(json.is_object()) << response->body();
  ASSERT_TRUE(json.as_object().contains("detail")) << response->body();
  if (!detail.empty()) {
    EXPECT_EQ(json.as_object().at("detail").as_string(), detail);
  }
}

// The server still answers a plain request and has not exited.
void expect_still_serving(TestServer& server) {
  EXPECT_TRUE(server.running());
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
}

constexpr std::string_view kGetRoot = "GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// --- request body size --------------------------------------------------

TEST(Limits, BodyOneByteOverTheLimitWithContentLengthGets413) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "1"}}));
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(post_head(1025) + user_body_of_size("over1", 1025)));
  ASSERT_TRUE(connection.read_response()) << connection.received();
  expect_json_error(first_response(connection.received()), 413, "Request body exceeds 1024 bytes.");
  EXPECT_TRUE(connection.wait_closed(2s));
  expect_still_serving(server);
  // Nothing was stored.
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Limits, DeclaredOversizedBodyIsRefusedBeforeItIsSent) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "5"}}));
  RawConnection connection(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(connection.send(post_head(10 * 1024 * 1024)));  // the 10 MB body never follows
  ASSERT_TRUE(connection.read_response(3s)) << connection.received();
  EXPECT_LT(seconds_since(start), 2.0) << "the 413 must not wait for the body or the request timeout";
  expect_json_error(first_response(connection.received()), 413);
  EXPECT_TRUE(connection.wait_closed(2s));
  expect_still_serving(server);
}

TEST(Limits, LargeBodyFarOverTheLimitStillGets413) {
  // A client that uploads 256 KB in one go to a 1 KB limit must still read
  // the 413, not a connection reset.
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "1"}}));
  RawConnection connection(server.port());
  const std::size_t size = 256 * 1024;
  connection.send(post_head(size) + user_body_of_size("big", size));  // may fail part-way: the server stops reading
  connection.read_response(3s);
  expect_json_error(first_response(connection.received()), 413);
  EXPECT_FALSE(connection.reset() && connection.received().empty()) << "connection reset without an answer";
  expect_still_serving(server);
}

TEST(Limits, ChunkedBodyOverTheLimitGets413) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "1"}}));
  RawConnection connection(server.port());
  const std::string body = user_body_of_size("chunky", 1200);
  ASSERT_TRUE(
      connection.send("POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n" +
                      chunked(body, 300)));
  ASSERT_TRUE(connection.read_response()) << connection.received();
  expect_json_error(first_response(connection.received()), 413, "Request body exceeds 1024 bytes.");
  EXPECT_TRUE(connection.wait_closed(2s));
  expect_still_serving(server);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Limits, BodyExactlyAtTheLimitIsAccepted) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "1"}}));
  HttpClient client(server.port());
  const auto with_length = client.post_json("/api/users/", user_body_of_size("exact1", 1024));
  EXPECT_EQ(with_length.result_int(), 201) << with_length.body();
  EXPECT_NE(with_length.body().find(R"("dni":"exact1")"), std::string::npos) << with_length.body();

  RawConnection connection(server.port());
  ASSERT_TRUE(
      connection.send("POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n" +
                      chunked(user_body_of_size("exact2", 1024), 100)));
  ASSERT_TRUE(connection.read_response()) << connection.received();
  const auto response = first_response(connection.received());
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 201) << response->body();
  EXPECT_NE(response->body().find(R"("dni":"exact2")"), std::string::npos) << response->body();
}

// --- header size ----------------------------------------------------------

TEST(Limits, HeaderOverTheLimitGets431) {
  TestServer server(with_env({{"MAX_HEADER_BYTES", "1024"}, {"REQUEST_TIMEOUT", "1"}}));
  {
    // Comfortably under the limit: served.
    RawConnection connection(server.port());
    ASSERT_TRUE(
        connection.send("GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(600, 'a') + "\r\n\r\n"));
    ASSERT_TRUE(connection.read_response()) << connection.received();
    EXPECT_EQ(first_response(connection.received())->result_int(), 200);
  }
  {
    // One long header.
    RawConnection connection(server.port());
    ASSERT_TRUE(
        connection.send("GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(2000, 'a') + "\r\n\r\n"));
    ASSERT_TRUE(connection.read_response()) << connection.received();
    expect_json_error(first_response(connection.received()), 431, "Request header fields exceed 1024 bytes.");
    EXPECT_TRUE(connection.wait_closed(2s));
  }
  {
    // Many short headers.
    std::string request = "GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 100; ++i) request += "X-H" + std::to_string(i) + ": 0123456789\r\n";
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send(request + "\r\n"));
    ASSERT_TRUE(connection.read_response()) << connection.received();
    expect_json_error(first_response(connection.received()), 431);
  }
  {
    // A long request target counts too.
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send("GET /api/users/?q=" + std::string(3000, 'x') + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(connection.read_response()) << connection.received();
    expect_json_error(first_response(connection.received()), 431);
  }
  expect_still_serving(server);
}

// --- slow and idle clients ------------------------------------------------

TEST(Limits, SlowlorisIsCutAfterRequestTimeoutWhileOthersAreServed) {
  TestServer server(with_env({{"REQUEST_TIMEOUT", "1"}, {"IDLE_TIMEOUT", "10"}, {"THREADS", "1"}}));
  // THREADS=1: the slow client and the others share the one IO thread.
  RawConnection slow(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.send("GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  HttpClient other(server.port());
  int served = 0;
  // Keep dripping a header line every 100 ms: the timeout covers the whole
  // request, so trickling bytes must not keep the connection alive.
  while (!slow.closed() && seconds_since(start) < 5.0) {
    const auto before = Clock::now();
    const auto response = other.get("/api/users/");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_LT(seconds_since(before), 0.9) << "another client was held up by the slow one";
    ++served;
    if (!slow.wait_closed(100ms)) slow.send("X-Drip: 1\r\n");
  }
  const double elapsed = seconds_since(start);
  EXPECT_TRUE(slow.closed()) << "the slow client was never cut";
  EXPECT_GE(elapsed, 0.8);
  EXPECT_LE(elapsed, 3.5);
  EXPECT_GE(served, 2);
  // No response is owed to a request that never arrived; if one is sent it
  // must not be a success.
  if (const auto response = first_response(slow.received())) {
    EXPECT_GE(response->result_int(), 400);
  }
  expect_still_serving(server);
}

TEST(Limits, StalledBodyIsCutAfterRequestTimeout) {
  TestServer server(with_env({{"REQUEST_TIMEOUT", "1"}, {"IDLE_TIMEOUT", "10"}}));
  RawConnection slow(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.send(post_head(100) + R"({"dni":"stall")"));
  EXPECT_TRUE(slow.wait_closed(3s));
  EXPECT_GE(seconds_since(start), 0.8);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Limits, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  TestServer server(with_env({{"IDLE_TIMEOUT", "1"}, {"REQUEST_TIMEOUT", "5"}}));
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(kGetRoot));
  ASSERT_TRUE(connection.read_response()) << connection.received();
  const auto response = first_response(connection.received());
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_TRUE(response->keep_alive());
  const auto idle_since = Clock::now();
  EXPECT_TRUE(connection.wait_closed(4s)) << "idle keep-alive connection left open";
  const double idle = seconds_since(idle_since);
  EXPECT_GE(idle, 0.8);
  EXPECT_LE(idle, 3.0);
}

TEST(Limits, ConnectionThatNeverSendsIsClosedAfterIdleTimeout) {
  TestServer server(with_env({{"IDLE_TIMEOUT", "1"}, {"REQUEST_TIMEOUT", "5"}}));
  RawConnection connection(server.port());
  const auto start = Clock::now();
  EXPECT_TRUE(connection.wait_closed(3s));
  EXPECT_GE(seconds_since(start), 0.8);
  EXPECT_TRUE(connection.received().empty()) << connection.received();
}

// --- connection cap -----------------------------------------------------

TEST(Limits, ExtraConnectionOverMaxConnectionsGets503ThenServedOnceOthersClose) {
  TestServer server(with_env({{"MAX_CONNECTIONS", "4"}, {"IDLE_TIMEOUT", "10"}, {"REQUEST_TIMEOUT", "5"}}));
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    // A full exchange on each makes sure the server counts it as open.
    held.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(held.back()->send(kGetRoot));
    ASSERT_TRUE(held.back()->read_response()) << held.back()->received();
    EXPECT_EQ(first_response(held.back()->received())->result_int(), 200);
    held.back()->clear_received();
  }

  {
    // The fifth, sending nothing, is told why and closed.
    RawConnection extra(server.port());
    EXPECT_TRUE(extra.wait_closed(3s));
    const auto response = first_response(extra.received());
    expect_json_error(response, 503);
    if (response) {
      EXPECT_EQ(std::string((*response)[boost::beast::http::field::retry_after]), "1");
    }
  }
  {
    // Another one that does send a request: a 503 or a plain close, never served.
    RawConnection extra(server.port());
    extra.send(kGetRoot);
    EXPECT_TRUE(extra.wait_closed(3s));
    if (!extra.received().empty()) expect_json_error(first_response(extra.received()), 503);
  }

  // The four held connections are unaffected.
  for (auto& connection : held) {
    ASSERT_TRUE(connection->send(kGetRoot));
    ASSERT_TRUE(connection->read_response()) << connection->received();
    EXPECT_EQ(first_response(connection->received())->result_int(), 200);
    connection->clear_received();
  }

  // Once one closes, a newcomer is served (allowing the server a moment to
  // notice the close).
  held.pop_back();
  bool served = false;
  const auto deadline = Clock::now() + 3s;
  while (!served && Clock::now() < deadline) {
    RawConnection newcomer(server.port());
    newcomer.send(kGetRoot);
    newcomer.read_response(2s);
    const auto response = first_response(newcomer.received());
    served = response && response->result_int() == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served) << "no connection was served after one of the held ones closed";
  EXPECT_TRUE(server.running());
}

// --- Expect: 100-continue -------------------------------------------------

TEST(Limits, ExpectContinueGets100ContinueThenTheResponse) {
  TestServer server(with_env({{"REQUEST_TIMEOUT", "3"}}));
  RawConnection connection(server.port());
  const std::string body = R"({"dni":"cont1","name":"Continued"})";
  ASSERT_TRUE(connection.send(post_head(body.size(), "Expect: 100-continue\r\n")));
  const auto header_end = [](std::string_view raw) { return raw.find("\r\n\r\n") != std::string_view::npos; };
  ASSERT_TRUE(connection.read_until(header_end, 2s)) << "no interim response before the body was sent";
  const std::string interim = connection.received();
  EXPECT_TRUE(interim.starts_with("HTTP/1.1 100 Continue\r\n")) << interim;
  EXPECT_TRUE(interim.ends_with("\r\n\r\n")) << "more than the interim response arrived: " << interim;

  connection.clear_received();
  ASSERT_TRUE(connection.send(body));
  ASSERT_TRUE(connection.read_response()) << connection.received();
  const auto response = first_response(connection.received());
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 201) << response->body();
  EXPECT_NE(response->body().find(R"("dni":"cont1")"), std::string::npos);
}

TEST(Limits, ExpectContinueWithOversizedBodyGets413WithoutContinue) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1024"}, {"REQUEST_TIMEOUT", "3"}}));
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(post_head(5000, "Expect: 100-continue\r\n")));
  ASSERT_TRUE(connection.read_response(2s)) << connection.received();
  EXPECT_FALSE(connection.received().starts_with("HTTP/1.1 100")) << connection.received();
  expect_json_error(first_response(connection.received()), 413);
}

}  // namespace
}  // namespace users::testing
