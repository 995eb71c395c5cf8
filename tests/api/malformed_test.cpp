// Malformed input of every kind: each gets a 4xx JSON answer or a closed
// connection, and the server goes on serving everyone else.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using namespace std::string_literals;

// Every complete response at the start of `raw`, in order. `head` lists, per
// response, whether it answers a HEAD (no body follows).
std::vector<HttpResponse> parse_responses(std::string_view raw, const std::vector<bool>& head = {}) {
  std::vector<HttpResponse> out;
  while (!raw.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(64U * 1024U * 1024U);
    if (out.size() < head.size() && head[out.size()]) parser.skip(true);
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

bool has_response(std::string_view raw) {
  return !parse_responses(raw).empty();
}

boost::json::value json_of(const HttpResponse& response) {
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body(), ec);
  if (ec) return nullptr;
  return value;
}

bool is_json(const HttpResponse& response) {
  return std::string_view((response)[bhttp::field::content_type]).starts_with("application/json") &&
         json_of(response).is_object();
}

void expect_still_serving(TestServer& server) {
  ASSERT_TRUE(server.running()) << "the server exited: " << server.stderr_text();
  HttpClient client(server.port());
  const auto response = client.get("/api/users/");
  EXPECT_EQ(response.result_int(), 200);
}

// Sends `bytes` on a fresh connection. The answer must be a 4xx with a JSON
// body (and the connection closed when the answer says so), or no answer and
// a closed connection. `also` may accept another status (e.g. 505).
void expect_rejected(TestServer& server, std::string_view label, std::string_view bytes, int also = 0) {
  SCOPED_TRACE(std::string(label));
  RawConnection connection(server.port());
  connection.send(bytes);  // the server may close before it has read everything
  const bool answered = connection.read_until(has_response, 3s);
  if (answered) {
    const auto responses = parse_responses(connection.received());
    const auto& response = responses.front();
    const int status = static_cast<int>(response.result_int());
    EXPECT_TRUE((status >= 400 && status < 500) || status == also) << connection.received();
    EXPECT_TRUE(is_json(response)) << connection.received();
    if (!response.keep_alive()) {
      EXPECT_TRUE(connection.wait_closed(2s)) << "answered Connection: close but left the connection open";
    }
  } else {
    EXPECT_TRUE(connection.closed()) << "neither answered nor closed within 3 s; got: " << connection.received();
  }
  expect_still_serving(server);
}

// For requests where answers differ among servers (bare LF, obs-fold): any
// well-formed non-5xx answer or a close, and the server still serves.
void expect_survived(TestServer& server, std::string_view label, std::string_view bytes) {
  SCOPED_TRACE(std::string(label));
  RawConnection connection(server.port());
  connection.send(bytes);
  if (connection.read_until(has_response, 3s)) {
    EXPECT_LT(parse_responses(connection.received()).front().result_int(), 500) << connection.received();
  } else {
    EXPECT_TRUE(connection.closed()) << connection.received();
  }
  expect_still_serving(server);
}

ServerOptions fast_options() {
  return with_env({{"REQUEST_TIMEOUT", "1"}, {"IDLE_TIMEOUT", "5"}});
}

std::string request_with(std::string_view header_lines, std::string_view body = {}) {
  return "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"s +
         std::string(header_lines) + "\r\n" + std::string(body);
}

// --- HTTP framing -------------------------------------------------------

TEST(Malformed, GarbageBytes) {
  TestServer server(fast_options());
  expect_rejected(server, "binary with a blank line", "\x01\x02\x03\xff\xfe\x00\x7f garbage\r\n\r\n"s);
  expect_rejected(server, "TLS client hello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x8a\x91\xc2\x00\x00"s);
  expect_rejected(server, "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  expect_rejected(server, "only line breaks", "\r\n\r\n\r\n\r\n");
  expect_rejected(server, "words", "hello there, server\r\n\r\n");
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 131 + 17) % 256);
  expect_rejected(server, "4 KB of noise", noise + "\r\n\r\n");
}

TEST(Malformed, BadRequestLine) {
  TestServer server(fast_options());
  expect_rejected(server, "method only", "GET\r\nHost: a\r\n\r\n");
  expect_rejected(server, "no version", "GET /api/\r\nHost: a\r\n\r\n");
  expect_rejected(server, "two spaces", "GET  /api/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "trailing word", "GET /api/ HTTP/1.1 extra\r\nHost: a\r\n\r\n");
  expect_rejected(server, "separator in method", "G(T /api/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "leading space", " GET /api/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "tab separated", "GET\t/api/\tHTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "empty method", " /api/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_survived(server, "bare LF line endings", "GET /api/ HTTP/1.1\nHost: a\n\n");
}

TEST(Malformed, BadHttpVersion) {
  TestServer server(fast_options());
  expect_rejected(server, "HTTP/1.x", "GET /api/ HTTP/1.x\r\nHost: a\r\n\r\n");
  expect_rejected(server, "HTTP/11", "GET /api/ HTTP/11\r\nHost: a\r\n\r\n");
  expect_rejected(server, "HTTPS/1.1", "GET /api/ HTTPS/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "lower case", "GET /api/ http/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "HTTP/1.1.1", "GET /api/ HTTP/1.1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "HTTP/", "GET /api/ HTTP/\r\nHost: a\r\n\r\n");
}

TEST(Malformed, UnsupportedMajorVersionIsNotServedAsHttp11) {
  // HTTP/2.0 or 3.0 in an HTTP/1 request line: RFC 9110 says 505 (a 400 or a
  // close is fine too), but never a normal answer labelled with that version.
  TestServer server(fast_options());
  expect_rejected(server, "HTTP/2.0", "GET /api/ HTTP/2.0\r\nHost: a\r\n\r\n", 505);
  expect_rejected(server, "HTTP/3.0", "GET /api/ HTTP/3.0\r\nHost: a\r\n\r\n", 505);
  expect_rejected(server, "HTTP/0.9", "GET /api/ HTTP/0.9\r\nHost: a\r\n\r\n", 505);
}

TEST(Malformed, InvalidHeaderBytes) {
  TestServer server(fast_options());
  expect_rejected(server, "space in name", "GET /api/ HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n");
  expect_rejected(server, "space before colon", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A : v\r\n\r\n");
  expect_rejected(server, "DEL in name", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-\x7f: v\r\n\r\n");
  expect_rejected(server, "8-bit byte in name", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-\xc3\xa9: v\r\n\r\n");
  expect_rejected(server, "control byte in value", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: a\x01z\r\n\r\n");
  expect_rejected(server, "bare CR in value", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: a\rz\r\n\r\n");
  expect_rejected(server, "empty name", "GET /api/ HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n");
  expect_rejected(server, "no colon", "GET /api/ HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n");
  expect_survived(server, "obs-fold", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n");
  expect_survived(server, "obs-text in value", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n");
}

TEST(Malformed, BadContentLength) {
  TestServer server(fast_options());
  const std::string body = R"({"dni":"cl1","name":"A"})";
  // ("24, 24" is left out: RFC 9110 8.6 lets a recipient accept a list of
  // identical values.)
  for (const char* value : {"abc", "-1", "1.5", "+24", "0x18", "24 24", "", "99999999999999999999999999"}) {
    expect_rejected(server, "Content-Length: "s + value, request_with("Content-Length: "s + value + "\r\n", body));
  }
  expect_rejected(server, "two different Content-Length",
                  request_with("Content-Length: 24\r\nContent-Length: 25\r\n", body + " "));
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]") << "a request with a bad Content-Length created a user";
}

TEST(Malformed, ContentLengthTogetherWithTransferEncoding) {
  TestServer server(fast_options());
  const std::string body = R"({"dni":"te1","name":"A"})";
  expect_rejected(
      server, "Content-Length then Transfer-Encoding",
      request_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "18\r\n" + body + "\r\n0\r\n\r\n"));
  expect_rejected(
      server, "Transfer-Encoding then Content-Length",
      request_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "18\r\n" + body + "\r\n0\r\n\r\n"));
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Malformed, TransferEncodingNotEndingInChunkedIsRefusedAndClosed) {
  // RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked
  // has no knowable length: 400 and close. Reading it as a body-less request
  // would run the body as a second, smuggled request.
  TestServer server(fast_options());
  HttpClient client(server.port());
  ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"victim","name":"V"})").result_int(), 201);
  const std::string smuggled = "DELETE /api/users/1/ HTTP/1.1\r\nHost: a\r\n\r\n";
  for (const char* coding : {"gzip", "chunked, gzip", "identity"}) {
    SCOPED_TRACE(coding);
    RawConnection connection(server.port());
    connection.send(request_with("Transfer-Encoding: "s + coding + "\r\n", smuggled));
    connection.read_until(has_response, 3s);
    connection.wait_closed(1s);
    const auto responses = parse_responses(connection.received());
    ASSERT_FALSE(responses.empty() && !connection.closed()) << "neither answered nor closed";
    if (!responses.empty()) {
      EXPECT_EQ(responses.front().result_int(), 400) << connection.received();
      EXPECT_TRUE(is_json(responses.front())) << connection.received();
    }
    EXPECT_LE(responses.size(), 1U) << "the body was run as another request:\n" << connection.received();
    EXPECT_TRUE(connection.closed());
    EXPECT_EQ(client.get("/api/users/1/").result_int(), 200) << "the smuggled DELETE ran";
  }
  expect_still_serving(server);
}

TEST(Malformed, BrokenChunkedEncoding) {
  TestServer server(fast_options());
  const std::string head = request_with("Transfer-Encoding: chunked\r\n");
  expect_rejected(server, "size not hex", head + "zz\r\n{}\r\n0\r\n\r\n");
  expect_rejected(server, "more data than the size", head + "2\r\n{}{}{}\r\n0\r\n\r\n");
  expect_rejected(server, "no CRLF after data", head + "2\r\n{}0\r\n\r\n");
  expect_rejected(server, "negative size", head + "-2\r\n{}\r\n0\r\n\r\n");
  expect_rejected(server, "size overflows", head + "ffffffffffffffffffffffff\r\n{}\r\n0\r\n\r\n");
  expect_rejected(server, "body cut short, then silence", head + "20\r\n{\"dni\":");
  expect_rejected(server, "no last chunk, then silence", head + "2\r\n{}\r\n");
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Malformed, NulBytes) {
  TestServer server(fast_options());
  expect_rejected(server, "NUL in target", "GET /api/\0users/ HTTP/1.1\r\nHost: a\r\n\r\n"s);
  expect_rejected(server, "NUL in header value", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n"s);
  expect_rejected(server, "NUL in header name", "GET /api/ HTTP/1.1\r\nHost: a\r\nX-\0A: b\r\n\r\n"s);
  expect_rejected(server, "NUL in method", "G\0T /api/ HTTP/1.1\r\nHost: a\r\n\r\n"s);

  HttpClient client(server.port());
  const auto raw_in_string = client.post_json("/api/users/", "{\"dni\":\"a\0b\",\"name\":\"N\"}"s);
  EXPECT_EQ(raw_in_string.result_int(), 400) << raw_in_string.body();
  EXPECT_TRUE(raw_in_string.body().starts_with(R"({"detail":"JSON parse error - )")) << raw_in_string.body();
  const auto raw_outside = client.post_json("/api/users/", "{\"dni\":\"ab\"\0,\"name\":\"N\"}"s);
  EXPECT_EQ(raw_outside.result_int(), 400) << raw_outside.body();
  EXPECT_TRUE(raw_outside.body().starts_with(R"({"detail":"JSON parse error - )")) << raw_outside.body();
  const auto escaped = client.post_json("/api/users/", R"({"dni":"a\u0000b","name":"N"})");
  EXPECT_EQ(escaped.result_int(), 400);
  EXPECT_EQ(escaped.body(), R"({"dni":["Null characters are not allowed."]})");
  const auto form = client.request("POST", "/api/users/", "dni=a%00b&name=N",
                                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.result_int(), 400);
  EXPECT_EQ(form.body(), R"({"dni":["Null characters are not allowed."]})");
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
  expect_still_serving(server);
}

// --- JSON bodies ----------------------------------------------------------

void expect_json_parse_error(HttpClient& client, std::string_view label, const std::string& body) {
  SCOPED_TRACE(std::string(label));
  const auto response = client.post_json("/api/users/", body);
  EXPECT_EQ(response.result_int(), 400) << response.body();
  EXPECT_TRUE(response.body().starts_with(R"({"detail":"JSON parse error - )")) << response.body();
  EXPECT_TRUE(is_json(response)) << response.body();
}

TEST(Malformed, InvalidUtf8InJsonIsAParseError) {
  TestServer server(fast_options());
  HttpClient client(server.port());
  const std::pair<const char*, std::string> cases[] = {
      {"0xff", "\xff"},
      {"0xfe 0xff", "\xfe\xff"},
      {"lone continuation byte", "\x80"},
      {"overlong slash", "\xc0\xaf"},
      {"overlong NUL", "\xc0\x80"},
      {"UTF-16 surrogate", "\xed\xa0\x80"},
      {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
      {"truncated sequence", "\xe2\x82"},
      {"5-byte form", "\xf8\x88\x80\x80\x80"},
  };
  for (const auto& [label, bytes] : cases) {
    expect_json_parse_error(client, label, R"({"dni":"x)" + bytes + R"(y","name":"N"})");
  }
  expect_json_parse_error(client, "in a key", "{\"d\xffni\":\"x\",\"name\":\"N\"}");
  expect_json_parse_error(client, "in an ignored value", "{\"dni\":\"u8a\",\"name\":\"N\",\"x\":\"\xff\"}");
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
  // Valid multi-byte UTF-8 still works after all that.
  const auto valid = client.post_json("/api/users/", R"({"dni":"ñ€𝄞","name":"José"})");
  EXPECT_EQ(valid.result_int(), 201) << valid.body();
  expect_still_serving(server);
}

TEST(Malformed, DeepJsonNestingIsRefused) {
  // Bodies past the default MAX_BODY_BYTES (64 KiB): the parser's own depth
  // limit is what this is about.
  TestServer server(with_env({{"REQUEST_TIMEOUT", "1"}, {"IDLE_TIMEOUT", "5"}, {"MAX_BODY_BYTES", "1048576"}}));
  HttpClient client(server.port());
  expect_json_parse_error(client, "100000 [", std::string(100000, '['));
  expect_json_parse_error(client, "100000 [ then ]", std::string(100000, '[') + std::string(100000, ']'));
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += R"({"a":)";
  expect_json_parse_error(client, "50000 objects", objects);
  expect_json_parse_error(client, "deep inside a field",
                          R"({"dni":"d1","name":"N","x":)" + std::string(100000, '[') + std::string(100000, ']') + "}");
  // Ordinary nesting is fine.
  const auto shallow = client.post_json("/api/users/", R"({"dni":"d2","name":"N","x":[[[[[{"y":[1]}]]]]]})");
  EXPECT_EQ(shallow.result_int(), 201) << shallow.body();
  expect_still_serving(server);
}

TEST(Malformed, HugeNumbers) {
  TestServer server(fast_options());
  HttpClient client(server.port());
  // 30 digits: too long for a dni, exactly long enough for a name.
  const std::string thirty = "123456789012345678901234567890";
  const auto long_dni = client.post_json("/api/users/", R"({"dni":)" + thirty + R"(,"name":"N"})");
  EXPECT_EQ(long_dni.result_int(), 400);
  EXPECT_EQ(long_dni.body(), R"({"dni":["Ensure this field has no more than 13 characters."]})");
  const auto name = client.post_json("/api/users/", R"({"dni":"h1","name":)" + thirty + "}");
  EXPECT_EQ(name.result_int(), 201) << name.body();
  EXPECT_NE(name.body().find(R"("name":")" + thirty + R"(")"), std::string::npos) << name.body();

  // Far beyond any integer or double type: a 4xx or a stored string, never 5xx.
  for (const std::string& number : {std::string(5000, '7'), "1e999999"s, "-1e999999"s, "1e-999999"s,
                                    "0."s + std::string(3000, '1'), "1"s + std::string(400, '0') + ".5e-3"}) {
    SCOPED_TRACE(number.substr(0, 40));
    const auto response = client.post_json("/api/users/", R"({"dni":)" + number + R"(,"name":"N"})");
    EXPECT_LT(response.result_int(), 500) << response.body();
    EXPECT_TRUE(is_json(response)) << response.body();
    const auto as_name = client.post_json("/api/users/", R"({"dni":"hn","name":)" + number + "}");
    EXPECT_LT(as_name.result_int(), 500) << as_name.body();
    if (as_name.result_int() == 201) {
      EXPECT_EQ(client.del("/api/users/" + std::to_string(json_of(as_name).at("id").as_int64()) + "/").result_int(),
                204);
    }
  }
  expect_still_serving(server);
}

TEST(Malformed, RequestTargetThatIsNotAPath) {
  TestServer server(fast_options());
  expect_rejected(server, "asterisk", "GET * HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "relative", "GET api/users/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "authority form", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "bad percent escape", "GET /api/users/%zz/ HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_rejected(server, "scheme only", "GET http: HTTP/1.1\r\nHost: a\r\n\r\n");
  // The absolute form is a valid target (RFC 9112 3.2.2).
  RawConnection absolute(server.port());
  absolute.send("GET http://127.0.0.1/api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(absolute.read_until(has_response, 3s));
  EXPECT_EQ(parse_responses(absolute.received()).front().result_int(), 200);
}

TEST(Malformed, NetworkPathTargetIsNotRoutedAsItsPathPart) {
  // "//host/api/users/" in a request line is the path "//host/api/users/"
  // (RFC 9112 origin-form allows empty segments); the reference (gunicorn +
  // Django) answers 404 for it. Reading it as a URI reference with an
  // authority would route it to /api/users/.
  TestServer server(fast_options());
  RawConnection connection(server.port());
  connection.send("GET //evil.example/api/users/ HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(connection.read_until(has_response, 3s)) << connection.received();
  const auto response = parse_responses(connection.received()).front();
  EXPECT_EQ(response.result_int(), 404) << connection.received();
  EXPECT_TRUE(is_json(response));
}

// --- connection handling ------------------------------------------------

TEST(Malformed, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server(fast_options());
  const std::string create = R"({"dni":"pipe1","name":"Piped"})";
  std::string requests;
  requests += "POST /api/users/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(create.size()) + "\r\n\r\n" + create;
  requests += "GET /api/users/ HTTP/1.1\r\nHost: a\r\n\r\n";
  requests += "HEAD /api/users/ HTTP/1.1\r\nHost: a\r\n\r\n";
  requests += "POST /api/users/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(create.size()) + "\r\n\r\n" + create;
  requests += "GET /api/users/999/ HTTP/1.1\r\nHost: a\r\n\r\n";
  requests += "GET /api/ HTTP/1.1\r\nHost: pipelined.example\r\nConnection: close\r\n\r\n";
  const std::vector<bool> head{false, false, true, false, false, false};

  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(requests));  // all in one write
  EXPECT_TRUE(connection.wait_closed(3s)) << "Connection: close on the last request was not honoured";
  const auto responses = parse_responses(connection.received(), head);
  ASSERT_EQ(responses.size(), 6U) << connection.received();
  EXPECT_EQ(responses[0].result_int(), 201);
  EXPECT_EQ(responses[0].body(), R"({"id":1,"dni":"pipe1","name":"Piped"})");
  EXPECT_EQ(responses[1].result_int(), 200);
  EXPECT_EQ(responses[1].body(), R"([{"id":1,"dni":"pipe1","name":"Piped"}])");
  EXPECT_EQ(responses[2].result_int(), 200);
  EXPECT_TRUE(responses[2].body().empty());
  EXPECT_EQ(responses[3].result_int(), 400);
  EXPECT_EQ(responses[3].body(), R"({"detail":"User already exists"})");
  EXPECT_EQ(responses[4].result_int(), 404);
  EXPECT_EQ(responses[5].result_int(), 200);
  EXPECT_EQ(responses[5].body(), R"({"users":"http://pipelined.example/api/users/"})");
  EXPECT_FALSE(responses[5].keep_alive());
}

TEST(Malformed, PipelinedRequestAfterAMalformedOneIsNotServed) {
  // Once the stream is out of sync nothing after the bad request may run.
  TestServer server(fast_options());
  const std::string create = R"({"dni":"after","name":"X"})";
  RawConnection connection(server.port());
  connection.send(
      "GET /api/ HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n"
      "POST /api/users/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(create.size()) + "\r\n\r\n" + create);
  EXPECT_TRUE(connection.wait_closed(3s));
  const auto responses = parse_responses(connection.received());
  ASSERT_LE(responses.size(), 1U) << connection.received();
  if (!responses.empty()) {
    EXPECT_EQ(responses.front().result_int(), 400);
  }
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").body(), "[]");
}

TEST(Malformed, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  TestServer server(with_env({{"REQUEST_TIMEOUT", "5"}, {"IDLE_TIMEOUT", "30"}}));
  {
    RawConnection connection(server.port());
    const auto start = Clock::now();
    ASSERT_TRUE(connection.send("GET /api/ HTTP/1.0\r\nHost: old.example\r\n\r\n"));
    EXPECT_TRUE(connection.wait_closed(2s)) << "HTTP/1.0 connection left open";
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
    const auto responses = parse_responses(connection.received());
    ASSERT_EQ(responses.size(), 1U) << connection.received();
    EXPECT_TRUE(connection.received().starts_with("HTTP/1.0 200 ")) << connection.received();
    EXPECT_EQ(responses[0].body(), R"({"users":"http://old.example/api/users/"})");
  }
  {
    // HTTP/1.0 asking for keep-alive gets it, and a second request is served.
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send("GET /api/ HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_TRUE(connection.read_until(has_response, 2s)) << connection.received();
    EXPECT_FALSE(connection.closed());
    ASSERT_TRUE(connection.send("GET /api/users/ HTTP/1.0\r\nHost: a\r\n\r\n"));
    EXPECT_TRUE(connection.wait_closed(2s));
    const auto responses = parse_responses(connection.received());
    ASSERT_EQ(responses.size(), 2U) << connection.received();
    EXPECT_TRUE(responses[0].keep_alive());
    EXPECT_EQ(responses[1].body(), "[]");
  }
  {
    // HTTP/1.1 with Connection: close is closed too.
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send("GET /api/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    EXPECT_TRUE(connection.wait_closed(2s));
    EXPECT_EQ(parse_responses(connection.received()).size(), 1U);
  }
}

TEST(Malformed, ServerSurvivesAMixOfBadClientsAtOnce) {
  // Many bad connections open at the same time, then a good one.
  TestServer server(fast_options());
  std::vector<std::unique_ptr<RawConnection>> bad;
  const std::string inputs[] = {
      "\xff\xfe\xfd\r\n\r\n"s,
      "GET / HTTP/9\r\n\r\n"s,
      "POST /api/users/ HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"s,
      "GET /api/ HTTP/1.1\r\nHost: a\r\n"s,
      std::string(20000, 'A'),
      "GET /api/ HTTP/1.1\r\nX: \0\r\n\r\n"s,
  };
  for (int round = 0; round < 5; ++round) {
    for (const auto& input : inputs) {
      bad.push_back(std::make_unique<RawConnection>(server.port()));
      bad.back()->send(input);
    }
  }
  HttpClient client(server.port());
  const auto start = Clock::now();
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 0.9);
  for (auto& connection : bad) EXPECT_TRUE(connection->wait_closed(3s)) << connection->received();
  expect_still_serving(server);
}

}  // namespace
}  // namespace users::testing
