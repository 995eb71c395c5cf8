// What hostile or merely numerous clients can take from the server, and what
// they cannot: the operations port, the caps on connections (in all, per
// client, per descriptor limit), the cap on list streams, the budget of
// request bytes, and the timeouts counted in /metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using namespace std::chrono_literals;

// A counter or gauge of /metrics, by its full series text ("name{labels}").
double metric(HttpClient& client, const std::string& series) {
  const auto text = client.get("/metrics").body();
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// Reads a gauge until it has stayed at or above `at_least` for three reads
// 100 ms apart (answers that pass through briefly are not what a test of
// held bytes wants), or `timeout` passes; the last value read.
double steady_gauge(HttpClient& client, const std::string& series, double at_least,
                    std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int steady = 0;
  double value = 0;
  while (steady < 3 && std::chrono::steady_clock::now() < deadline) {
    value = metric(client, series);
    steady = value >= at_least ? steady + 1 : 0;
    if (steady < 3) std::this_thread::sleep_for(100ms);
  }
  return value;
}

std::string get_request(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// Connections that have each been answered once and stay open, idle.
std::vector<std::unique_ptr<RawConnection>> hold_connections(std::uint16_t port, int count) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < count; ++i) {
    held.push_back(std::make_unique<RawConnection>(port));
    EXPECT_TRUE(held.back()->send(get_request("/healthz")));
    EXPECT_TRUE(held.back()->read_response()) << "connection " << i;
    held.back()->clear_received();
  }
  return held;
}

// The first response a fresh connection gets without sending anything
// more than a GET.
std::optional<HttpResponse> answer_to_new_connection(std::uint16_t port, std::string_view target = "/api/") {
  RawConnection connection(port);
  connection.send(get_request(target));
  if (!connection.read_response(2s)) return std::nullopt;
  return first_response(connection.received());
}

// Waits for the status line and header of the answer (a stream's first
// bytes, or a whole refusal); its status, 0 when none came.
int answer_status(RawConnection& connection, std::chrono::milliseconds timeout = 5s) {
  connection.read_until([](std::string_view raw) { return raw.find("\r\n\r\n") != std::string_view::npos; }, timeout);
  const auto& raw = connection.received();
  if (!raw.starts_with("HTTP/1.1 ") || raw.size() < 12) return 0;
  return std::stoi(raw.substr(9, 3));
}

// --- OPS_PORT ---------------------------------------------------------------

TEST(OpsPort, ProbesAndMetricsAnswerThereWhileEveryApiSlotIsHeld) {
  const auto ops_port = unused_port();
  TestServer server(with_env({{"OPS_PORT", std::to_string(ops_port)}, {"MAX_CONNECTIONS", "6"}}));
  ASSERT_EQ(server.ops_port(), ops_port) << "the listening line names the ops port";
  auto held = hold_connections(server.port(), 6);

  const auto refused = answer_to_new_connection(server.port());
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->result_int(), 503) << "every API slot is taken";

  HttpClient ops(ops_port);
  EXPECT_EQ(ops.get("/healthz").result_int(), 200);
  EXPECT_EQ(ops.get("/readyz").result_int(), 200);
  const auto scrape = ops.get("/metrics");
  EXPECT_EQ(scrape.result_int(), 200);
  EXPECT_NE(scrape.body().find("users_api_http_connections_open 6"), std::string::npos) << scrape.body();
  EXPECT_GE(metric(ops, R"(users_api_http_connections_rejected_total{reason="max_connections"})"), 1);
  EXPECT_EQ(ops.get("/api/users/").result_int(), 404) << "the ops port serves the operations endpoints only";
  EXPECT_EQ(ops.get("/api/").result_int(), 404);

  held.pop_back();  // a slot for the checks on the API port
  std::this_thread::sleep_for(100ms);
  HttpClient api(server.port());
  EXPECT_EQ(api.get("/healthz").result_int(), 200) << "the API port keeps the probes";
  EXPECT_EQ(api.get("/readyz").result_int(), 200);
  EXPECT_EQ(api.get("/metrics").result_int(), 404) << "/metrics lives on the ops port only";
}

TEST(OpsPort, IsNeverThrottledNorCheckedForHostsOrCredentials) {
  const auto ops_port = unused_port();
  TestServer server(with_env({{"OPS_PORT", std::to_string(ops_port)},
                              {"THROTTLE_ANON_RATE", "1/minute"},
                              {"ALLOWED_HOSTS", "api.example.org"}}));
  HttpClient ops(ops_port);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ops.get("/readyz").result_int(), 200) << "probe " << i;
    EXPECT_EQ(ops.get("/metrics").result_int(), 200) << "scrape " << i;
  }
  HttpClient api(server.port());
  EXPECT_EQ(api.request("GET", "/api/users/", {}, {{"Host", "api.example.org"}}).result_int(), 200);
  EXPECT_EQ(api.request("GET", "/api/users/", {}, {{"Host", "api.example.org"}}).result_int(), 429)
      << "the API port is throttled as asked";
}

TEST(OpsPort, ItsOwnCapLeavesTheApiAlone) {
  const auto ops_port = unused_port();
  TestServer server(with_env({{"OPS_PORT", std::to_string(ops_port)}, {"OPS_MAX_CONNECTIONS", "2"}}));
  auto held = hold_connections(ops_port, 2);
  const auto refused = answer_to_new_connection(ops_port, "/healthz");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->result_int(), 503);
  HttpClient api(server.port());
  EXPECT_EQ(api.get("/api/users/").result_int(), 200);
}

TEST(OpsPort, APortInUseStopsTheStartAndSaysWhich) {
  TestServer first;
  const auto started =
      run_binary({"serve"}, {{"PORT", "0"},
                             {"HOST", "127.0.0.1"},
                             {"OPS_PORT", std::to_string(first.port())},
                             {"DATABASE_URL", "sqlite:///" + (first.dir() / "second.sqlite3").string()}});
  EXPECT_NE(started.exit_code, 0);
  EXPECT_NE(started.err.find("OPS_PORT"), std::string::npos) << started.err;
}

TEST(OpsPort, TheHealthcheckCommandUsesIt) {
  const auto ops_port = unused_port();
  TestServer server(with_env({{"OPS_PORT", std::to_string(ops_port)}}));
  EXPECT_EQ(run_binary({"healthcheck"}, {{"PORT", "1"}, {"OPS_PORT", std::to_string(ops_port)}}).exit_code, 0)
      << "PORT 1 has no server: the check must go to OPS_PORT";
}

// --- connections per client ---------------------------------------------------

TEST(ConnectionsPerClient, PastTheCapAClientGets503AtOnceAndOthersAreServed) {
  TestServer server(with_env({{"MAX_CONNECTIONS_PER_CLIENT", "3"}}));
  auto held = hold_connections(server.port(), 3);
  const auto start = std::chrono::steady_clock::now();
  const auto refused = answer_to_new_connection(server.port());
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->result_int(), 503);
  EXPECT_EQ(refused->body(), R"({"detail":"Too many open connections, try again later."})");
  EXPECT_EQ((*refused)[boost::beast::http::field::retry_after], "1");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "refused at once, not after a timeout";

  held.pop_back();
  std::this_thread::sleep_for(100ms);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").result_int(), 200) << "a freed slot is the client's again";
  EXPECT_EQ(metric(client, R"(users_api_http_connections_rejected_total{reason="per_client"})"), 1);
}

TEST(ConnectionsPerClient, TrustedProxiesAreNotCapped) {
  TestServer server(with_env({{"MAX_CONNECTIONS_PER_CLIENT", "2"}, {"TRUSTED_PROXIES", "127.0.0.1"}}));
  auto held = hold_connections(server.port(), 5);
  EXPECT_EQ(held.size(), 5U);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
}

// --- descriptors ------------------------------------------------------------------

TEST(Descriptors, TheCapFollowsTheLimitAndPastItClientsGet503AtOnce) {
  ServerOptions options = with_env({{"MAX_CONNECTIONS", "10000"}, {"MAX_CONNECTIONS_PER_CLIENT", "0"}});
  options.launcher = {"/usr/bin/prlimit", "--nofile=160:160", "--"};
  TestServer server(options);
  const auto log = server.stdout_text();
  static const std::regex caps(
      R"re("msg":"connection caps lowered[^"]*","descriptor_limit":160,"reserved_descriptors":(\d+),"max_connections":(\d+))re");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(log, match, caps)) << log;
  const int cap = std::stoi(match[2].str());
  EXPECT_EQ(cap + std::stoi(match[1].str()), 160);

  auto held = hold_connections(server.port(), cap);
  int refused_at_once = 0;
  for (int i = 0; i < 40; ++i) {
    const auto answer = answer_to_new_connection(server.port());
    if (answer && answer->result_int() == 503) ++refused_at_once;
  }
  EXPECT_EQ(refused_at_once, 40) << "past the cap every new client is told 503, none is left to time out";
  held.clear();
  std::this_thread::sleep_for(200ms);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
  const auto after = server.stdout_text();
  EXPECT_EQ(after.find("accept failing"), std::string::npos) << "the cap keeps accept from running out";
}

TEST(Descriptors, OutOfDescriptorsAcceptAnswers503AndLogsOnceEachWay) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's runtime needs descriptors of its own to check a type it meets for
  // the first time (it probes memory through a pipe): out of them, it reports
  // a false "invalid vptr" and aborts. The release build runs this test.
  GTEST_SKIP() << "the sanitizers' runtime cannot run out of descriptors; the release build runs this test";
#endif
  // The limit lowered under a running server (whose caps were set for a
  // larger one): accept fails with EMFILE, and the spare descriptor answers.
  TestServer server(with_env({{"MAX_CONNECTIONS_PER_CLIENT", "0"}}));
  const std::string lower = "/usr/bin/prlimit --pid " + std::to_string(server.pid()) + " --nofile=48:48";
  ASSERT_EQ(std::system(lower.c_str()), 0);
  std::vector<std::unique_ptr<RawConnection>> clients;
  int served = 0;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    clients.push_back(std::make_unique<RawConnection>(server.port()));
    clients.back()->send(get_request("/api/"));
    const int status = answer_status(*clients.back(), 3s);
    served += status == 200 ? 1 : 0;
    refused += status == 503 ? 1 : 0;
  }
  EXPECT_GT(served, 0);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(served + refused, 60) << "every client got an answer, none was left to time out";
  clients.clear();
  HttpClient client(server.port());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.stdout_text().find("accepting connections again") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    client.get("/api/");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(client.get("/api/users/").result_int(), 200);
  const auto log = server.stdout_text();
  auto count = [&log](std::string_view text) {
    std::size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("accept failing, backing off"), 1U) << log;
  EXPECT_EQ(count("accepting connections again"), 1U) << log;
}

// --- timeouts -------------------------------------------------------------------

TEST(Timeouts, AreCountedByKindAndIdleOnesLoggedAtDebug) {
  TestServer server(with_env({{"IDLE_TIMEOUT", "0.3"}, {"REQUEST_TIMEOUT", "0.3"}, {"LOG_LEVEL", "debug"}}));
  {
    RawConnection idle(server.port());
    ASSERT_TRUE(idle.send(get_request("/api/")));
    ASSERT_TRUE(idle.read_response());
    EXPECT_TRUE(idle.wait_closed(2s));
  }
  {
    RawConnection slow(server.port());
    ASSERT_TRUE(slow.send("GET /api/ HTTP/1.1\r\nHost: 1"));
    EXPECT_TRUE(slow.wait_closed(2s));
  }
  HttpClient client(server.port());
  EXPECT_EQ(metric(client, R"(users_api_http_timeouts_total{kind="idle"})"), 1);
  EXPECT_EQ(metric(client, R"(users_api_http_timeouts_total{kind="request"})"), 1);
  EXPECT_EQ(metric(client, R"(users_api_http_timeouts_total{kind="write"})"), 0);
  const auto log = server.stdout_text();
  EXPECT_NE(log.find(R"("level":"debug","msg":"timeout","kind":"idle")"), std::string::npos) << log;
}

// --- list streams ---------------------------------------------------------------

// A GET of the whole list whose answer is never read: with 200,000 users
// (about 14 MB, more than loopback's socket buffers hold) the stream stays open.
constexpr int kLongList = 200000;
std::unique_ptr<RawConnection> unread_list(std::uint16_t port) {
  auto connection = std::make_unique<RawConnection>(port);
  EXPECT_TRUE(connection->send(get_request("/api/users/")));
  return connection;
}

TEST(ListStreams, PastTheCapAListGets503AndSingleUsersStayFast) {
  TestServer server(with_env({{"MAX_LIST_STREAMS", "2"}, {"WRITE_TIMEOUT", "30"}}));
  insert_sqlite_users(server, kLongList);
  auto first = unread_list(server.port());
  auto second = unread_list(server.port());
  EXPECT_EQ(answer_status(*first), 200);  // both streams have begun
  EXPECT_EQ(answer_status(*second), 200);

  HttpClient client(server.port());
  const auto refused = client.get("/api/users/");
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(refused.body(), R"({"detail":"Service temporarily unavailable, try again later."})");
  EXPECT_EQ(refused[boost::beast::http::field::retry_after], "1");
  const auto one = client.get("/api/users/150000/");
  EXPECT_EQ(one.result_int(), 200) << one.body();

  first.reset();
  second.reset();
  std::this_thread::sleep_for(300ms);  // the server sees both gone at its next write
  const auto whole = client.get("/api/users/");
  EXPECT_EQ(whole.result_int(), 200);
  EXPECT_TRUE(whole.body().ends_with(R"("name":"User number 200000"}])")) << whole.body().substr(0, 200);
}

TEST(ListStreams, ShortListsTakeNoSlot) {
  TestServer server(with_env({{"MAX_LIST_STREAMS", "1"}}));
  insert_sqlite_users(server, kLongList);
  auto holder = unread_list(server.port());
  EXPECT_EQ(answer_status(*holder), 200);
  // The browsable page (at most 1,000 users, sent whole) and single users
  // are answered while the only stream slot is taken.
  HttpClient client(server.port());
  const auto page = client.request("GET", "/api/users/", {}, {{"Accept", "text/html"}});
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_EQ(client.get("/api/users/1/").result_int(), 200);
}

// --- the request budget ---------------------------------------------------------

// Clients that send the head of a POST with a large Content-Length and part
// of the body, then wait.
std::vector<std::unique_ptr<RawConnection>> stalled_bodies(std::uint16_t port, int clients, std::size_t length,
                                                           std::size_t sent) {
  const std::string head =
      "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(length) + "\r\n\r\n";
  const std::string part(sent, ' ');
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < clients; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(port));
    stalled.back()->send(head);
    stalled.back()->send(part);
  }
  return stalled;
}

TEST(RequestBudget, StalledBodiesPastItGet503AndTheHeldBytesStayUnderIt) {
  constexpr std::size_t kBudget = std::size_t{8} << 20U;
  TestServer server(with_env({{"MAX_BODY_BYTES", "1048576"},
                              {"REQUEST_BUFFER_BYTES", std::to_string(kBudget)},
                              {"MAX_CONNECTIONS_PER_CLIENT", "0"},
                              {"REQUEST_TIMEOUT", "10"}}));
  auto stalled = stalled_bodies(server.port(), 40, 1U << 20U, 900U * 1024U);
  int refused = 0;
  for (auto& client : stalled) {
    // A refusal comes at once; a body that was let in waits for the rest.
    if (client->read_response(500ms)) {
      const auto answer = first_response(client->received());
      if (answer && answer->result_int() == 503) ++refused;
    }
  }
  // Each 1 MiB body is charged its length and a 64 KiB read buffer: 7 fit in 8 MiB.
  EXPECT_GE(refused, 40 - 8);
  EXPECT_LE(refused, 40 - 6);
  HttpClient client(server.port());
  const double held = metric(client, "users_api_http_request_buffer_bytes");
  EXPECT_GT(held, 0);
  EXPECT_LE(held, static_cast<double>(kBudget));
  stalled.clear();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(client, "users_api_http_request_buffer_bytes"), 0) << "every byte is given back";
  EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"small","name":"Fits"})").result_int(), 201);
}

TEST(RequestBudget, TheDefaultBodyLimitRefusesAMegabyteAtTheHeader) {
  TestServer server;
  RawConnection connection(server.port());
  ASSERT_TRUE(
      connection.send("POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 1048576\r\n\r\n"));
  ASSERT_TRUE(connection.read_response(2s)) << "answered before a byte of the body";
  const auto answer = first_response(connection.received());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result_int(), 413);
  EXPECT_EQ(answer->body(), R"({"detail":"Request body exceeds 65536 bytes."})");
}

TEST(ResponseBudget, LargeAnswersNobodyReadsPastItBecome503) {
  // The API docs' script (1.5 MB) is written whole. A client that asks for
  // it eight times at once and reads nothing fills the kernel's buffers (4 MiB
  // on each side at most), and then the answer being written waits in the
  // server: two such clients hold two answers, and a third large answer
  // would pass the 4 MiB budget.
  constexpr double kBudget = 4194304;
  TestServer server(with_env({{"RESPONSE_BUFFER_BYTES", "4194304"}, {"WRITE_TIMEOUT", "30"}}));
  const std::string script = "/api/docs/swagger-ui-bundle.js";
  std::string pipelined;
  for (int i = 0; i < 8; ++i) pipelined += get_request(script);
  RawConnection first(server.port(), 4096);
  RawConnection second(server.port(), 4096);
  ASSERT_TRUE(first.send(pipelined));
  ASSERT_TRUE(second.send(pipelined));

  HttpClient client(server.port());
  const double held = steady_gauge(client, "users_api_http_response_buffer_bytes", 3e6);
  EXPECT_GT(held, 3e6) << "two answers held while their clients do not read";
  EXPECT_LE(held, kBudget);

  const auto refused = client.get(script);
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(refused.body(), R"({"detail":"Service temporarily unavailable, try again later."})");
  EXPECT_EQ(refused[boost::beast::http::field::retry_after], "1");
  EXPECT_EQ(client.get("/api/users/").result_int(), 200) << "small answers are never refused for it";
}

TEST(ResponseBudget, EveryByteIsGivenBackWhenTheReadersGo) {
  TestServer server(with_env({{"RESPONSE_BUFFER_BYTES", "4194304"}, {"WRITE_TIMEOUT", "30"}}));
  const std::string script = "/api/docs/swagger-ui-bundle.js";
  std::string pipelined;
  for (int i = 0; i < 8; ++i) pipelined += get_request(script);
  HttpClient client(server.port());
  {
    RawConnection reader(server.port(), 4096);
    ASSERT_TRUE(reader.send(pipelined));
    EXPECT_GT(steady_gauge(client, "users_api_http_response_buffer_bytes", 1e6), 1e6);
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (metric(client, "users_api_http_response_buffer_bytes") != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(metric(client, "users_api_http_response_buffer_bytes"), 0) << "the reader's close gives it all back";
  const auto whole = client.get(script);
  EXPECT_EQ(whole.result_int(), 200);
  EXPECT_GT(whole.body().size(), 1'000'000U);
}

// The RSS ceilings under the issue's memory attacks. Meaningless under
// AddressSanitizer (its shadow memory and quarantine): there, the same
// attacks run and only the answers are checked.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMeasuresMemory = false;
#else
constexpr bool kMeasuresMemory = true;
#endif

// The server's RSS once a burst is over: read until it is back within
// 16 MiB of `before` (the trim runs every 2 s), or 5 s have passed.
long resident_after_burst(const TestServer& server, long before) {
  long after = resident_kib(server.pid());
  for (int i = 0; i < 50 && after > before + 16 * 1024; ++i) {
    std::this_thread::sleep_for(100ms);
    after = resident_kib(server.pid());
  }
  return after;
}

TEST(MemoryCeiling, TwoHundredStalledMegabyteBodiesStayUnderTheBudget) {
  TestServer server(
      with_env({{"MAX_BODY_BYTES", "1048576"}, {"MAX_CONNECTIONS_PER_CLIENT", "0"}, {"REQUEST_TIMEOUT", "20"}}));
  const long before = resident_kib(server.pid());
  auto stalled = stalled_bodies(server.port(), 200, 1U << 20U, 900U * 1024U);
  std::this_thread::sleep_for(1s);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/").result_int(), 200) << "still serving";
  const long peak = peak_resident_kib(server.pid());
  stalled.clear();
  const long after = resident_after_burst(server, before);
  std::cout << "RSS before " << before / 1024 << " MiB, peak " << peak / 1024 << " MiB, after " << after / 1024
            << " MiB\n";
  if (kMeasuresMemory) {
    // Before the budget: a peak of 195 MB, and most of it still held after.
    EXPECT_LT(peak, before + 48 * 1024) << "32 MiB of bodies at most, and their read buffers";
    EXPECT_LT(after, before + 16 * 1024) << "the burst's memory went back to the system";
  }
}

TEST(MemoryCeiling, TwoHundredWholeMegabyteBodiesStayUnderTheBudget) {
  TestServer server(with_env({{"MAX_BODY_BYTES", "1048576"}, {"MAX_CONNECTIONS_PER_CLIENT", "0"}}));
  const long before = resident_kib(server.pid());
  const std::string body = R"({"dni":"x","name":")" + std::string((1U << 20U) - 40U, 'a') + R"("})";
  const std::string request =
      "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<RawConnection>(server.port()));
    clients.back()->send(request);  // fails part-way for those refused at the header
  }
  int refused = 0;
  int answered = 0;
  for (auto& client : clients) {
    const int status = answer_status(*client);
    refused += status == 503 ? 1 : 0;
    answered += status == 400 ? 1 : 0;  // a name that long is invalid
  }
  EXPECT_GT(refused, 0) << "the budget let every body in at once";
  EXPECT_GT(answered, 0);
  const long peak = peak_resident_kib(server.pid());
  clients.clear();
  const long after = resident_after_burst(server, before);
  std::cout << "RSS before " << before / 1024 << " MiB, peak " << peak / 1024 << " MiB, after " << after / 1024
            << " MiB; " << refused << " refused, " << answered << " answered 400\n";
  if (kMeasuresMemory) {
    // Before the budget: a peak of 224 MB, and 142 MB still held 25 s later.
    EXPECT_LT(peak, before + 64 * 1024) << "32 MiB of bodies, and what parsing them takes";
    EXPECT_LT(after, before + 16 * 1024);
  }
}

TEST(MemoryCeiling, FourHundredUnreadListsStayUnderTheBudget) {
  TestServer server(with_env({{"MAX_CONNECTIONS_PER_CLIENT", "0"}, {"WRITE_TIMEOUT", "30"}}));
  insert_sqlite_users(server, kLongList);
  const long before = resident_kib(server.pid());
  std::vector<std::unique_ptr<RawConnection>> readers;
  for (int i = 0; i < 400; ++i) readers.push_back(unread_list(server.port()));
  int refused = 0;
  for (auto& reader : readers) {
    if (answer_status(*reader) == 503) ++refused;
  }
  EXPECT_GE(refused, 396 - 4) << "MAX_LIST_STREAMS (4) lists are sent, the others refused";
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/users/1/").result_int(), 200);
  const long peak = peak_resident_kib(server.pid());
  std::cout << "RSS before " << before / 1024 << " MiB, peak " << peak / 1024 << " MiB\n";
  // Before the cap: 135 MB, and held for minutes.
  if (kMeasuresMemory) {
    EXPECT_LT(peak, before + 32 * 1024);
  }
}

}  // namespace
}  // namespace users::testing
