// The cost of a hostile form body on the real binary (issue 15, item 9): a
// 1 MiB form of 0xff bytes used to hold an IO thread for ~150-220 ms while
// 1 MiB of JSON took 5-10 ms. The form must now be answered within 3x the
// JSON body's time, plus 20 ms of slack for a loaded machine; medians of 7
// interleaved tries, so that a burst of load from elsewhere hits both.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBodyBytes = std::size_t{1} << 20U;

// The wall time of one POST of `body`, on a keep-alive connection so that
// only the request itself is timed.
double post_ms(HttpClient& client, std::string_view content_type, const std::string& body) {
  const auto start = Clock::now();
  const auto response = client.request("POST", "/api/users/", body, {{"Content-Type", std::string(content_type)}});
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_EQ(response.result_int(), 400) << response.body().substr(0, 200);
  return ms;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

TEST(FormCost, AMebibyteOfInvalidBytesCostsLittleMoreThanAMebibyteOfJson) {
  TestServer server(with_env({{"MAX_BODY_BYTES", std::to_string(kBodyBytes)}}));
  HttpClient client(server.port());
  // The same size, the same kind of content: U+00FF as valid UTF-8 in JSON,
  // raw 0xff bytes in the form. Neither names a field, so both are 400s
  // decided by the parser's work alone.
  std::string json = R"({"x":")";
  while (json.size() + 2 + 2 <= kBodyBytes) json += "\xC3\xBF";
  json += "\"}";
  const std::string form(kBodyBytes, '\xFF');

  // Warm up, then interleave the two.
  post_ms(client, "application/json", json);
  post_ms(client, "application/x-www-form-urlencoded", form);
  constexpr int kRounds = 7;
  std::vector<double> json_ms;
  std::vector<double> form_ms;
  for (int i = 0; i < kRounds; ++i) {
    json_ms.push_back(post_ms(client, "application/json", json));
    form_ms.push_back(post_ms(client, "application/x-www-form-urlencoded", form));
  }
  const double json_median = median(json_ms);
  const double form_median = median(form_ms);
  std::cout << "1 MiB: JSON " << json_median << " ms, form of 0xff " << form_median << " ms\n";
  // The same bound holds under ASan: parsing alone (a standalone benchmark
  // built like the asan preset) took 117 ms for this form with the old code,
  // 25 ms now, and 12-13 ms for this JSON; in release 79-220 ms, 3 ms and
  // 3 ms. The old server failed it in release (47-72 ms against JSON's 3-5).
  EXPECT_LT(form_median, 3 * json_median + 20) << "JSON " << json_median << " ms";
}

}  // namespace
}  // namespace users::testing
