#include "http/wire.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <cctype>
#include <iterator>
#include <random>

namespace users::http {
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr std::size_t kMaxRequestIdLength = 128;
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

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == ':' ||
           c == '/' || c == '+' || c == '=';
  });
}

std::string new_request_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
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
void serialize(const Message& message, std::string& out) {
  out.clear();
  out += message.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  fmt::format_to(std::back_inserter(out), "{} ", message.result_int());
  out += message.reason();
  out += "\r\n";
  for (const auto& field : message) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
  out += message.body();
}

}  // namespace users::http
