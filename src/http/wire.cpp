#include "http/wire.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <random>

namespace users::http {
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr std::size_t kMaxRequestIdLength = 128;

constexpr std::string_view kTransferEncodingInHttp10 = "Transfer-Encoding is not allowed in an HTTP/1.0 request.";
constexpr std::string_view kNotChunkedOnce = "Transfer-Encoding must be chunked, once, on one line.";
constexpr std::string_view kCodingNotImplemented = "Transfer codings other than chunked are not implemented.";
}  // namespace

Message error_message(bhttp::status status, std::string_view detail, unsigned version) {
  Message message{status, version};
  message.set(bhttp::field::content_type, "application/json");
  message.body() = fmt::format(R"({{"detail":"{}"}})", detail);
  message.keep_alive(false);
  message.prepare_payload();
  return message;
}

std::optional<Message> answer_for_read_error(const boost::system::error_code& ec, const Limits& limits) {
  if (ec == bhttp::error::header_limit) {
    return error_message(bhttp::status::request_header_fields_too_large,
                         fmt::format("Request header fields exceed {} bytes.", limits.max_header_bytes), 11);
  }
  if (ec == bhttp::error::body_limit) {
    return error_message(bhttp::status::payload_too_large,
                         fmt::format("Request body exceeds {} bytes.", limits.max_body_bytes), 11);
  }
  // Everything else Beast reports while parsing is a malformed request; a
  // timeout, a reset or an early end of stream leaves no one to answer.
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return error_message(bhttp::status::bad_request, "Malformed HTTP request.", 11);
  }
  return std::nullopt;
}

std::optional<Message> refuse_transfer_encoding(const Request& header) {
  const auto lines = header.count(bhttp::field::transfer_encoding);
  if (lines == 0) return std::nullopt;
  // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
  // framing (a 1.0 proxy may have forwarded it without understanding it).
  if (header.version() < 11) return error_message(bhttp::status::bad_request, kTransferEncodingInHttp10, 10);
  // Two field lines: a proxy that reads the first and we who read the last
  // (or their join) would frame the body differently.
  if (lines > 1) return error_message(bhttp::status::bad_request, kNotChunkedOnce, 11);
  std::size_t codings = 0;
  std::size_t chunked = 0;
  bool last_is_chunked = false;
  for (const auto coding : bhttp::token_list{header[bhttp::field::transfer_encoding]}) {
    ++codings;
    last_is_chunked = boost::beast::iequals(coding, "chunked");
    if (last_is_chunked) ++chunked;
  }
  // RFC 9112 6.3: not ending in chunked, the length is unknowable; chunked
  // twice is forbidden to senders (6.1). Either way the stream is out of sync.
  if (!last_is_chunked || chunked > 1) return error_message(bhttp::status::bad_request, kNotChunkedOnce, 11);
  if (codings > 1) return error_message(bhttp::status::not_implemented, kCodingNotImplemented, 11);
  return std::nullopt;
}

HeaderBlock scan_header_block(std::string_view bytes) {
  for (auto at = bytes.find("\r\n"); at != std::string_view::npos; at = bytes.find("\r\n", at + 2)) {
    if (at + 2 >= bytes.size()) return HeaderBlock::kIncomplete;
    const char next = bytes[at + 2];
    if (next == ' ' || next == '\t') return HeaderBlock::kFolded;
    if (next == '\r') {
      if (at + 3 >= bytes.size()) return HeaderBlock::kIncomplete;
      if (bytes[at + 3] == '\n') return HeaderBlock::kComplete;
    }
  }
  return HeaderBlock::kIncomplete;
}

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == ':' ||
           c == '/' || c == '+' || c == '=';
  });
}

std::string new_request_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  std::string id(16, '0');
  auto bits = generator();
  for (auto digit = id.rbegin(); digit != id.rend(); ++digit, bits >>= 4U) *digit = kHexDigits[bits & 0xFU];
  return id;
}

std::string_view address_of_peer(std::string_view peer) {
  const auto colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

std::string peer_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

// Beast's serializer yields a response as a chain of small buffers (one per
// header field) behind layers of buffer views; walking that chain cost more
// instructions than all the rest of a request (measured with callgrind). The
// message is still built and validated by Beast (fields, Content-Length,
// Connection); this writes it out in one pass into one reusable buffer, so the
// socket gets a single plain buffer.
void serialize(const Message& message, std::string& out, std::initializer_list<std::string_view> extra_header_lines) {
  out.clear();
  out += message.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  std::array<char, 8> code{};
  const auto written = std::to_chars(code.data(), code.data() + code.size(), message.result_int());
  out.append(code.data(), written.ptr);
  out += ' ';
  out += message.reason();
  out += "\r\n";
  for (const auto& field : message) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  for (const auto lines : extra_header_lines) out += lines;
  out += "\r\n";
  out += message.body();
}

std::string_view date_header_line() {
  thread_local std::time_t formatted_second = -1;
  thread_local std::string line;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != formatted_second) {
    formatted_second = now;
    // IMF-fixdate (RFC 9110 5.6.7) has English day and month names whatever
    // the locale; fmt's chrono formatting uses the C locale unless told not to.
    line = fmt::format("Date: {:%a, %d %b %Y %H:%M:%S} GMT\r\n", fmt::gmtime(now));
  }
  return line;
}

}  // namespace users::http
