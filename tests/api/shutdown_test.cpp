// Graceful shutdown on SIGTERM: in-flight requests finish, new connections
// are refused, idle connections do not hold the exit back, and every user the
// server acknowledged is in the database afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

namespace users::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

// True when a connection attempt is refused outright (nothing listens).
bool connection_refused(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool refused =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 && errno == ECONNREFUSED;
  ::close(fd);
  return refused;
}

bool wait_until_refused(std::uint16_t port, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (connection_refused(port)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct StoredUser {
  std::string dni;
  std::string name;
};

// The users in a SQLite file, opened read-only after the server has exited,
// and the result of its integrity check.
std::map<std::int64_t, StoredUser> read_users(const std::filesystem::path& path, std::string& integrity) {
  std::map<std::int64_t, StoredUser> users;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path.string());
  }
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr);
  if (sqlite3_step(statement) == SQLITE_ROW)
    integrity = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_prepare_v2(db, "SELECT id, dni, name FROM api_user", -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    users[sqlite3_column_int64(statement, 0)] = {reinterpret_cast<const char*>(sqlite3_column_text(statement, 1)),
                                                 reinterpret_cast<const char*>(sqlite3_column_text(statement, 2))};
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return users;
}

// Waits for the exit without sending another signal (a second SIGTERM could
// land after the server has restored the default action).
int wait_for_exit(TestServer& server, milliseconds timeout) {
  return server.stop(0, timeout);
}

TEST(Shutdown, SigtermLetsAnInFlightRequestFinishAndRefusesNewConnections) {
  TestServer server(with_env({{"SHUTDOWN_TIMEOUT", "5"}, {"REQUEST_TIMEOUT", "5"}, {"IDLE_TIMEOUT", "30"}}));
  const std::string body = R"({"dni":"inflight","name":"Half and half"})";
  const std::string head =
      "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  RawConnection slow(server.port());
  ASSERT_TRUE(slow.send(head + body.substr(0, 10)));
  std::this_thread::sleep_for(200ms);  // the server has begun reading the request

  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  EXPECT_TRUE(wait_until_refused(server.port(), 2s)) << "still accepting connections after SIGTERM";
  EXPECT_TRUE(server.running()) << "exited with a request in flight";

  ASSERT_TRUE(slow.send(body.substr(10)));
  ASSERT_TRUE(slow.read_response()) << "the in-flight request got no response: " << slow.received();
  const auto response = first_response(slow.received());
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 201) << response->body();
  EXPECT_EQ(response->body(), R"({"id":1,"dni":"inflight","name":"Half and half"})");
  EXPECT_FALSE(response->keep_alive()) << "a draining server should close the connection after the response";
  EXPECT_TRUE(slow.wait_closed(2s));

  const auto start = Clock::now();
  EXPECT_EQ(wait_for_exit(server, 5s), 0);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_NE(server.stdout_text().find(R"("msg":"stopped")"), std::string::npos);

  std::string integrity;
  const auto users = read_users(server.database_path(), integrity);
  EXPECT_EQ(integrity, "ok");
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users.at(1).dni, "inflight");
}

TEST(Shutdown, IdleKeepAliveConnectionsDoNotDelayExit) {
  TestServer server(with_env({{"SHUTDOWN_TIMEOUT", "10"}, {"IDLE_TIMEOUT", "30"}, {"REQUEST_TIMEOUT", "10"}}));
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(idle.back()->send("GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    ASSERT_TRUE(idle.back()->read_response());
    idle.back()->clear_received();
  }
  idle.push_back(std::make_unique<RawConnection>(server.port()));  // connected, never sends
  std::this_thread::sleep_for(100ms);

  const auto start = Clock::now();
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  EXPECT_EQ(wait_for_exit(server, 5s), 0);
  EXPECT_LT(seconds_since(start), 3.0) << "idle connections held the exit back (SHUTDOWN_TIMEOUT is 10 s)";
  for (auto& connection : idle) {
    EXPECT_TRUE(connection->wait_closed(1s));
    EXPECT_TRUE(connection->received().empty()) << connection->received();
  }
}

TEST(Shutdown, StalledRequestIsCutAtTheShutdownTimeout) {
  TestServer server(with_env({{"SHUTDOWN_TIMEOUT", "1"}, {"REQUEST_TIMEOUT", "30"}, {"IDLE_TIMEOUT", "30"}}));
  RawConnection stalled(server.port());
  ASSERT_TRUE(stalled.send("POST /api/users/ HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n{"));
  std::this_thread::sleep_for(200ms);
  const auto start = Clock::now();
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  EXPECT_EQ(wait_for_exit(server, 5s), 0);
  const double elapsed = seconds_since(start);
  EXPECT_GE(elapsed, 0.8) << "the stalled request was not given its drain time";
  EXPECT_LT(elapsed, 4.0);
  EXPECT_TRUE(stalled.wait_closed(1s));
}

TEST(Shutdown, EveryAcknowledgedUserIsInTheDatabaseAfterExit) {
  TestServer server(with_env({{"THREADS", "2"}, {"SHUTDOWN_TIMEOUT", "5"}, {"IDLE_TIMEOUT", "30"}}));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 75;
  std::mutex mutex;
  std::map<std::int64_t, StoredUser> acknowledged;
  std::vector<std::string> unexpected;
  std::atomic<int> acknowledged_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server.port());
      for (int i = 0; i < kPerThread; ++i) {
        const std::string dni = fmt::format("d{}-{}", t, i);
        const std::string name = "Thread " + std::to_string(t);
        HttpResponse response;
        try {
          response = client.post_json("/api/users/", R"({"dni":")" + dni + R"(","name":")" + name + R"("})");
        } catch (const std::exception&) {
          return;  // the server has stopped taking connections
        }
        const std::lock_guard lock(mutex);
        if (response.result_int() != 201) {
          unexpected.push_back(std::to_string(response.result_int()) + " " + response.body());
          continue;
        }
        const auto id = boost::json::parse(response.body()).at("id").as_int64();
        acknowledged[id] = {dni, name};
        ++acknowledged_count;
      }
    });
  }
  // Stop while the writes are in full flow.
  const auto deadline = Clock::now() + 5s;
  while (acknowledged_count.load() < 60 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wait_for_exit(server, 10s), 0);
  for (const auto& message : unexpected) ADD_FAILURE() << "unexpected answer during shutdown: " << message;
  EXPECT_GE(acknowledged.size(), 60U);
  EXPECT_LT(acknowledged.size(), static_cast<std::size_t>(kThreads * kPerThread))
      << "every write finished before SIGTERM arrived: the drain was not exercised";

  std::string integrity;
  const auto stored = read_users(server.database_path(), integrity);
  EXPECT_EQ(integrity, "ok");
  for (const auto& [id, user] : acknowledged) {
    const auto found = stored.find(id);
    ASSERT_NE(found, stored.end()) << "acknowledged user " << id << " (" << user.dni << ") is missing";
    EXPECT_EQ(found->second.dni, user.dni);
    EXPECT_EQ(found->second.name, user.name);
  }

  // A new server on the same file serves the same users.
  TestServer again(with_env({{"DATABASE_URL", "sqlite:///" + server.database_path().string()}}));
  HttpClient client(again.port());
  const auto list = boost::json::parse(client.get("/api/users/").body()).as_array();
  EXPECT_EQ(list.size(), stored.size());
}

}  // namespace
}  // namespace users::testing
