// Logs under hostile clients: bytes a client chooses never break a line, and a
// stdout that nobody reads holds neither memory nor the shutdown.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn's environment

namespace users::testing {
namespace {

using namespace std::chrono_literals;

// Paths with bytes a terminal or a log parser would choke on: ill-formed
// UTF-8, a right-to-left override, a zero-width space, a C1 control.
const std::string kHostileTarget = "/api/users/\xff\xfe\xe2\x80\xae\xe2\x80\x8b\xc2\x9b/x";

// True when `text` holds one of the hostile byte sequences of kHostileTarget as it is.
bool has_unsafe_bytes(std::string_view text) {
  for (const std::string_view raw : {"\xff", "\xfe", "\xe2\x80\xae", "\xe2\x80\x8b", "\xc2\x9b"})
    if (text.find(raw) != std::string_view::npos) return true;
  return false;
}

// "/" + n times c + "/" (built by appending: GCC 12 warns falsely, -Wrestrict, on the concatenation).
std::string slashed(std::size_t n, char c) {
  std::string path = "/";
  path.append(n, c);
  path += '/';
  return path;
}

void wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = 3s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
}

TEST(LogHostile, JsonLinesStayValidJsonWithEscapedBytes) {
  TestServer server(with_env({{"LOG_FORMAT", "json"}}));
  const auto raw = raw_exchange(server.port(), "GET " + kHostileTarget + " HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
  ASSERT_NE(raw.find(" 400 "), std::string::npos) << raw;  // Malformed request target., and logged
  wait_for([&] { return server.stdout_text().find("/x\"") != std::string::npos; });
  const auto text = server.stdout_text();
  EXPECT_FALSE(has_unsafe_bytes(text));
  std::istringstream lines(text);
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto* path = value.as_object().if_contains("path");
    if (path == nullptr) continue;
    const std::string_view logged = path->as_string();
    if (!logged.ends_with("/x")) continue;
    found = true;
    // Decoded, the line says what was sent, with the bad bytes replaced.
    EXPECT_EQ(logged, "/api/users/\xef\xbf\xbd\xef\xbf\xbd\xe2\x80\xae\xe2\x80\x8b\xc2\x9b/x");
    EXPECT_NE(line.find(R"(\ufffd\ufffd\u202e\u200b\u009b)"), std::string::npos) << line;
  }
  EXPECT_TRUE(found) << text;
}

TEST(LogHostile, TextLinesEscapeTheSameBytes) {
  TestServer server(with_env({{"LOG_FORMAT", "text"}}));
  const auto raw = raw_exchange(server.port(), "GET " + kHostileTarget + " HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
  ASSERT_NE(raw.find(" 400 "), std::string::npos) << raw;  // Malformed request target., and logged
  wait_for([&] { return server.stdout_text().find(R"(/x")") != std::string::npos; });
  const auto text = server.stdout_text();
  EXPECT_FALSE(has_unsafe_bytes(text));
  EXPECT_NE(text.find(R"("/api/users/\ufffd\ufffd\u202e\u200b\u009b/x")"), std::string::npos) << text;
}

TEST(LogHostile, ALongPathIsCutAndMarked) {
  TestServer server(with_env({{"LOG_FORMAT", "json"}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.get(slashed(5000, 'a')).result_int(), 404);
  wait_for([&] { return server.stdout_text().find("path_truncated") != std::string::npos; });
  const auto text = server.stdout_text();
  std::string cut = R"("path":"/)";
  cut.append(1023, 'a');
  cut += R"(",)";
  EXPECT_NE(text.find(cut), std::string::npos);
  EXPECT_NE(text.find(R"("path_truncated":true)"), std::string::npos);
  EXPECT_EQ(text.find(std::string(1024, 'a')), std::string::npos);
}

// The server with its stdout on a pipe that the test stops reading once the
// server has said which port it listens on.
class UnreadStdoutServer {
 public:
  explicit UnreadStdoutServer(const std::map<std::string, std::string>& settings) : dir_(make_temp_dir()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    read_end_ = fds[0];
    std::vector<std::string> env{"PORT=0", "HOST=127.0.0.1", "THREADS=2", "LOG_FORMAT=json",
                                 "DATABASE_URL=sqlite:///" + (dir_ / "db.sqlite3").string()};
    for (const auto& [key, value] : settings) env.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::string binary = binary_path();
    std::string serve = "serve";
    std::array<char*, 3> argv{binary.data(), serve.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    read_port();
  }
  UnreadStdoutServer(const UnreadStdoutServer&) = delete;
  UnreadStdoutServer& operator=(const UnreadStdoutServer&) = delete;
  UnreadStdoutServer(UnreadStdoutServer&&) = delete;
  UnreadStdoutServer& operator=(UnreadStdoutServer&&) = delete;
  ~UnreadStdoutServer() {
    if (pid_ > 0 && ::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(read_end_);
    std::filesystem::remove_all(dir_);
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Peak resident memory so far, in KiB (VmHWM).
  [[nodiscard]] long peak_rss_kib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
    return -1;
  }

  // Sends SIGTERM; the exit status and how long the exit took, or nullopt if
  // it had not exited after `limit`.
  std::optional<std::pair<int, std::chrono::milliseconds>> terminate(std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid_, SIGTERM);
    while (std::chrono::steady_clock::now() - start < limit) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return std::pair{
            WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
      }
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

 private:
  void read_port() {
    static const std::regex listening(R"re("msg":"listening".*"port":(\d+))re");
    std::string seen;
    std::array<char, 4096> buffer{};
    while (seen.size() < 65536) {
      const auto n = ::read(read_end_, buffer.data(), buffer.size());
      if (n <= 0) break;
      seen.append(buffer.data(), static_cast<std::size_t>(n));
      std::smatch match;
      if (std::regex_search(seen, match, listening)) {
        port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
        return;
      }
    }
    throw std::runtime_error("users-api did not say it listens: " + seen);
  }

  std::filesystem::path dir_;
  int read_end_ = -1;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

std::uint64_t dropped_lines(HttpClient& client) {
  const auto metrics = client.get("/metrics").body();
  static const std::regex dropped(R"(users_api_log_lines_dropped_total (\d+))");
  std::smatch match;
  if (!std::regex_search(metrics, match, dropped)) return 0;
  return std::stoull(match[1].str());
}

TEST(LogHostile, AnUnreadStdoutBoundsMemoryCountsDropsAndLetsSigtermFinishInTime) {
  UnreadStdoutServer server(std::map<std::string, std::string>{{"SHUTDOWN_TIMEOUT", "2"}});
  // 18,000 requests with 15,000-byte paths: before the byte bound and the
  // cut, their lines took the process from 13 MB to 323 MB.
  const std::string path = slashed(15000, 'p');
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      HttpClient client(server.port());
      for (int i = 0; i < 4500; ++i) ASSERT_EQ(client.get(path).result_int(), 404);
    });
  }
  for (auto& client : clients) client.join();
  HttpClient client(server.port());
  EXPECT_GT(dropped_lines(client), 0U) << "the pipe holds 64 KiB and the queue 4 MiB: most lines must be dropped";
  const auto peak = server.peak_rss_kib();
  EXPECT_GT(peak, 0);
#if !defined(__SANITIZE_ADDRESS__)
  // (Under ASan the server holds freed memory in quarantine by design, 400 MB
  // here: the bound is checked by the release build's run of this test.)
  EXPECT_LT(peak, 48 * 1024) << "peak RSS " << peak << " KiB";
#endif
  const auto exited = server.terminate(5s);
  ASSERT_TRUE(exited.has_value()) << "SIGTERM did not end the process within 5 s";
  EXPECT_EQ(exited->first, 0);
  EXPECT_LT(exited->second, 2500ms) << "SHUTDOWN_TIMEOUT=2 bounds the last flush";
  std::cout << "peak RSS " << peak << " KiB; SIGTERM to exit " << exited->second.count() << " ms\n";
}

}  // namespace
}  // namespace users::testing
