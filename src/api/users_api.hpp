// The API: turns an HTTP request into a response by the rules of the
// reference's DRF ModelViewSet. Knows HTTP and the domain; storage only
// through UserStore.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>

#include "http/server.hpp"
#include "storage/user_store.hpp"

namespace users::api {

struct ApiOptions {
  // Host for absolute URLs when a request has no Host header.
  std::string default_host = "localhost";
  // Users per chunk of a streamed list; a list shorter than this is sent whole.
  std::size_t list_page_size = 1000;
};

class UsersApi {
 public:
  UsersApi(storage::UserStore& store, ApiOptions options);

  // Never throws: every failure becomes a response.
  boost::asio::awaitable<http::Response> handle(http::Request request);

 private:
  storage::UserStore& store_;
  ApiOptions options_;
};

}  // namespace users::api
