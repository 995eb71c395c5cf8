#include "support/http_client.hpp"

#include <poll.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace users::testing {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

HttpClient::HttpClient(std::uint16_t port) : port_(port) {}

void HttpClient::connect() {
  socket_.emplace(io_);
  socket_->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  buffer_.clear();
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                                 const Headers& headers) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") request.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!socket_ || !socket_->is_open()) connect();
    boost::system::error_code ec;
    bhttp::write(*socket_, request, ec);
    if (ec && attempt == 0) {
      socket_.reset();
      continue;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.skip(method == "HEAD");
    bhttp::read(*socket_, buffer_, parser, ec);
    if (ec && attempt == 0 && (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset)) {
      socket_.reset();  // the server closed an idle keep-alive connection
      continue;
    }
    if (ec) throw boost::system::system_error(ec);
    HttpResponse response = parser.release();
    if (!response.keep_alive()) socket_.reset();
    return response;
  }
  throw std::runtime_error("request failed twice");
}

HttpResponse HttpClient::post_json(std::string_view target, std::string_view json) {
  return request("POST", target, json, {{"Content-Type", "application/json"}});
}
HttpResponse HttpClient::put_json(std::string_view target, std::string_view json) {
  return request("PUT", target, json, {{"Content-Type", "application/json"}});
}
HttpResponse HttpClient::patch_json(std::string_view target, std::string_view json) {
  return request("PATCH", target, json, {{"Content-Type", "application/json"}});
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);

  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{socket.native_handle(), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 1))) <= 0) break;
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) break;  // closed by the server (or reset)
    received.append(chunk, n);
  }
  return received;
}

std::optional<HttpResponse> parse_response(std::string_view raw) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(asio::buffer(raw.data(), raw.size()), ec);
  if (ec && ec != bhttp::error::need_more) return std::nullopt;
  if (!parser.is_done()) {
    if (!parser.got_some()) return std::nullopt;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return std::nullopt;
  }
  return parser.release();
}

std::string users_of(const HttpResponse& response) {
  std::string out;
  const auto list = boost::json::parse(response.body());
  for (const auto& user : list.as_array()) {
    if (!out.empty()) out += ',';
    out += std::to_string(user.at("id").as_int64());
    out += ':';
    out += std::string_view(user.at("name").as_string());
  }
  return out;
}

}  // namespace users::testing
