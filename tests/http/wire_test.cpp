// The http layer's framing checks, as pure functions: what a request's
// Transfer-Encoding deserves, and where obs-fold hides in a header block.
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

}  // namespace
}  // namespace users::http
