// The bytes the server produces on its own: its answers to requests no
// handler sees, request ids, and the one-pass response serializer.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "http/limits.hpp"
#include "http/server.hpp"

namespace users::http {

// {"detail": detail} with Connection: close.
Message error_message(boost::beast::http::status status, std::string_view detail, unsigned version);

// What a failed read of a request deserves: an answer, or just a close.
std::optional<Message> answer_for_read_error(const boost::system::error_code& ec, const Limits& limits);

// RFC 9112 6.1 and 6.3: what a request's Transfer-Encoding deserves when its
// framing cannot be trusted. None: no Transfer-Encoding, or exactly `chunked`
// on one field line. HTTP/1.0 with any Transfer-Encoding, codings that do not
// end in chunked, chunked twice, or more than one field line: 400. Other
// codings before a final chunked: 501 (we implement none). Every answer closes.
std::optional<Message> refuse_transfer_encoding(const Request& header);

// What the bytes at the start of a connection's buffer hold of a request's
// header block (RFC 9112 2.1: start line, field lines, an empty line).
enum class HeaderBlock {
  kIncomplete,  // no empty line yet
  kComplete,    // the empty line is there and no line is folded
  kFolded,      // a line starts with SP or HTAB: obs-fold (RFC 9112 5.2)
};
// Not a parser: it only looks for CRLF followed by SP, HTAB or CRLF, which is
// all that obs-fold detection needs (Beast parses the header afterwards).
HeaderBlock scan_header_block(std::string_view bytes);

// X-Request-ID: a client's own id is kept when it is a sane token, so that
// its logs and ours can be joined; anything else is replaced.
bool is_sane_request_id(std::string_view id);
std::string new_request_id();

// "address:port", or "unknown".
std::string peer_of(const boost::asio::ip::tcp::socket& socket);
// The address part of what peer_of returns ("::1:5000" -> "::1").
std::string_view address_of_peer(std::string_view peer);

// `message` as HTTP/1.x bytes, into `out` (cleared first), with
// `extra_header_lines` (each ending in CRLF) after its fields.
void serialize(const Message& message, std::string& out,
               std::initializer_list<std::string_view> extra_header_lines = {});

// "Date: <IMF-fixdate>\r\n" for now (RFC 9110 6.6.1: an origin server with a
// clock sends it on every 2xx, 3xx and 4xx). Formatted once a second per
// thread; valid until the thread's next call.
std::string_view date_header_line();

}  // namespace users::http
