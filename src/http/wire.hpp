// The bytes the server produces on its own: its answers to requests no
// handler sees, request ids, and the one-pass response serializer.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>
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

// X-Request-ID: a client's own id is kept when it is a sane token, so that
// its logs and ours can be joined; anything else is replaced.
bool is_sane_request_id(std::string_view id);
std::string new_request_id();

// "address:port", or "unknown".
std::string peer_of(const boost::asio::ip::tcp::socket& socket);

// `message` as HTTP/1.x bytes, into `out` (cleared first).
void serialize(const Message& message, std::string& out);

}  // namespace users::http
