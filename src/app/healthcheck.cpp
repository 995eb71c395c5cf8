// `users-api healthcheck`: the container's HEALTHCHECK without curl or a shell.
#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>

#include "app/app.hpp"

namespace users::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(2);

}  // namespace

int healthcheck(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || !parsed->has_authority()) {
    fmt::print(stderr, "users-api: healthcheck: \"{}\" is not an http:// URL\n", url);
    return kExitBadConfig;
  }
  const std::string host(parsed->host_address());
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target(parsed->encoded_target());
  if (target.empty()) target = "/";

  asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, std::string(parsed->encoded_host_and_port()));
  request.set(bhttp::field::user_agent, "users-api-healthcheck");
  request.keep_alive(false);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  boost::system::error_code failure;

  stream.expires_after(kTimeout);
  resolver.async_resolve(
      host, port, [&](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (ec) {
          failure = ec;
          return;
        }
        stream.async_connect(results, [&](const boost::system::error_code& connect_ec, const tcp::endpoint&) {
          if (connect_ec) {
            failure = connect_ec;
            return;
          }
          bhttp::async_write(stream, request, [&](const boost::system::error_code& write_ec, std::size_t) {
            if (write_ec) {
              failure = write_ec;
              return;
            }
            bhttp::async_read(stream, buffer, response,
                              [&](const boost::system::error_code& read_ec, std::size_t) { failure = read_ec; });
          });
        });
      });
  io.run_for(kTimeout + std::chrono::milliseconds(500));

  if (failure || response.result_int() == 0) {
    fmt::print(stderr, "users-api: healthcheck: {}: {}\n", url, failure ? failure.message() : "no answer");
    return kExitFailure;
  }
  if (response.result_int() != 200) {
    fmt::print(stderr, "users-api: healthcheck: {} answered {}: {}\n", url, response.result_int(), response.body());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace users::app
