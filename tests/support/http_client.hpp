// A small HTTP/1.1 client over a real socket, for talking to the binary.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace users::testing {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using Headers = std::map<std::string, std::string>;

// One keep-alive connection; reconnects if the server closed it.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);

  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const Headers& headers = {});
  HttpResponse get(std::string_view target) { return request("GET", target); }
  HttpResponse post_json(std::string_view target, std::string_view json);
  HttpResponse put_json(std::string_view target, std::string_view json);
  HttpResponse patch_json(std::string_view target, std::string_view json);
  HttpResponse del(std::string_view target) { return request("DELETE", target); }

 private:
  void connect();
  std::uint16_t port_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::beast::flat_buffer buffer_;
};

// Sends raw bytes on a new connection, then reads until the server closes it
// or `timeout` passes. Returns everything received.
std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Parses the first response in `raw` (as raw_exchange returns it).
std::optional<HttpResponse> parse_response(std::string_view raw);

// A JSON list of users as "id:name,id:name,...": what the list-cache tests
// compare after each write.
std::string users_of(const HttpResponse& response);

}  // namespace users::testing
