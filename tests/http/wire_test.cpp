// The http layer's framing checks, as pure functions: what a request's
// Transfer-Encoding deserves, and where obs-fold hides in a header block; and
// the bytes of a response, request ids and the Date line.
#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

namespace users::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::string_literals;

Request with_codings(std::initializer_list<std::string_view> lines, unsigned version = 11) {
  Request request{bhttp::verb::post, "/api/users/", version};
  for (const auto line : lines) request.insert(bhttp::field::transfer_encoding, line);
  return request;
}

unsigned refused_with(const Request& request) {
  const auto answer = refuse_transfer_encoding(request);
  return answer ? answer->result_int() : 0;
}

TEST(TransferEncoding, NoneOrExactlyChunkedOnOneLineIsAccepted) {
  EXPECT_EQ(refused_with(with_codings({})), 0U);
  EXPECT_EQ(refused_with(with_codings({"chunked"})), 0U);
  EXPECT_EQ(refused_with(with_codings({"Chunked"})), 0U);
  EXPECT_EQ(refused_with(with_codings({}, 10)), 0U);
}

TEST(TransferEncoding, OtherCodingsBeforeAFinalChunkedAreNotImplemented) {
  EXPECT_EQ(refused_with(with_codings({"gzip, chunked"})), 501U);
  EXPECT_EQ(refused_with(with_codings({"deflate,chunked"})), 501U);
  EXPECT_EQ(refused_with(with_codings({"x-custom , chunked"})), 501U);
}

TEST(TransferEncoding, AnythingElseIsABadRequest) {
  EXPECT_EQ(refused_with(with_codings({"chunked, chunked"})), 400U);
  EXPECT_EQ(refused_with(with_codings({"gzip, chunked, chunked"})), 400U);
  EXPECT_EQ(refused_with(with_codings({"chunked, gzip"})), 400U);
  EXPECT_EQ(refused_with(with_codings({"gzip"})), 400U);
  EXPECT_EQ(refused_with(with_codings({""})), 400U);
  EXPECT_EQ(refused_with(with_codings({"gzip", "chunked"})), 400U);
  EXPECT_EQ(refused_with(with_codings({"chunked", "chunked"})), 400U);
  EXPECT_EQ(refused_with(with_codings({"chunked"}, 10)), 400U);
  EXPECT_EQ(refused_with(with_codings({"gzip, chunked"}, 10)), 400U);
}

TEST(TransferEncoding, EveryRefusalClosesAndSaysWhy) {
  for (const auto& request : {with_codings({"gzip, chunked"}), with_codings({"gzip"}), with_codings({"chunked"}, 10)}) {
    const auto answer = refuse_transfer_encoding(request);
    ASSERT_TRUE(answer.has_value());
    EXPECT_FALSE(answer->keep_alive());
    EXPECT_TRUE(answer->body().starts_with(R"({"detail":")")) << answer->body();
  }
  EXPECT_EQ(refuse_transfer_encoding(with_codings({"chunked"}, 10))->body(),
            R"({"detail":"Transfer-Encoding is not allowed in an HTTP/1.0 request."})");
}

TEST(HeaderBlock, FindsTheEndOrAFold) {
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HeaderBlock::kComplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\r\n with space"), HeaderBlock::kComplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\n X: b\r\n\r\n"), HeaderBlock::kFolded);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), HeaderBlock::kFolded);
  EXPECT_EQ(scan_header_block(""), HeaderBlock::kIncomplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\n"), HeaderBlock::kIncomplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\n\r"), HeaderBlock::kIncomplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\r\nHost: a\r\rX: b"), HeaderBlock::kIncomplete);
  EXPECT_EQ(scan_header_block("GET / HTTP/1.1\nHost: a\n\n"), HeaderBlock::kIncomplete);
}

TEST(Serialize, WritesTheStatusFieldsExtraLinesAndBodyInOnePass) {
  Message message{bhttp::status::not_found, 11};
  message.set(bhttp::field::content_type, "application/json");
  message.body() = R"({"detail":"Not found."})";
  message.prepare_payload();
  std::string out = "left over";
  serialize(message, out, {"X-One: 1\r\n", "", "X-Two: 2\r\n"});
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 23\r\n"
            "X-One: 1\r\nX-Two: 2\r\n\r\n{\"detail\":\"Not found.\"}");
  Message old{bhttp::status::ok, 10};
  serialize(old, out);
  EXPECT_EQ(out, "HTTP/1.0 200 OK\r\n\r\n");
}

TEST(DateHeaderLine, IsAnImfFixdateInEnglishWhateverTheLocale) {
  const std::string line(date_header_line());
  // "Date: Tue, 01 Dec 2026 22:09:45 GMT\r\n"
  ASSERT_EQ(line.size(), 37U) << line;
  EXPECT_TRUE(line.starts_with("Date: ")) << line;
  EXPECT_TRUE(line.ends_with(" GMT\r\n")) << line;
  constexpr std::string_view kDays = "Mon Tue Wed Thu Fri Sat Sun";
  EXPECT_NE(kDays.find(line.substr(6, 3)), std::string_view::npos) << line;
  EXPECT_EQ(line.substr(9, 2), ", ") << line;
  constexpr std::string_view kMonths = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec";
  EXPECT_NE(kMonths.find(line.substr(14, 3)), std::string_view::npos) << line;
}

TEST(RequestId, SixteenLowercaseHexDigitsAndSane) {
  const auto first = new_request_id();
  const auto second = new_request_id();
  EXPECT_EQ(first.size(), 16U);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos) << first;
  EXPECT_TRUE(is_sane_request_id(first));
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace users::http
