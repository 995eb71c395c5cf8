// The process as an operator sees it: start, serve, stop on a signal.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

TEST(Lifecycle, ServesOnAnEphemeralPortAndExitsZeroOnSigterm) {
  TestServer server;
  ASSERT_NE(server.port(), 0);
  HttpClient client(server.port());
  const auto response = client.get("/api/");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_NE(server.stdout_text().find(R"("msg":"stopped")"), std::string::npos);
}

TEST(Lifecycle, ExitsZeroOnSigint) {
  TestServer server;
  EXPECT_EQ(server.stop(SIGINT), 0);
}

}  // namespace
}  // namespace users::testing
