// Starts the real users-api binary for a test: its own temporary directory
// and SQLite file, an ephemeral port, stdout and stderr captured to files.
// When the tests run against PostgreSQL (USERS_API_TEST_POSTGRES_URL or
// ..._URL_FILE, see support/postgres.hpp), the default database is instead a
// fresh PostgreSQL database of its own, dropped when the server is.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace users::testing {

// The binary under test: $USERS_API_BINARY, else the one this build made.
std::string binary_path();

class TestDatabase;

struct ServerOptions {
  // Added to a minimal environment. Unless it names DATABASE_URL or
  // DATABASE_URL_FILE, the server gets a database of its own.
  std::map<std::string, std::string> env;
  std::vector<std::string> args;  // after the binary name; default: serve
  bool wait_until_listening = true;
  // A command the binary runs under (e.g. prlimit with its options and "--"),
  // which must exec it in place so that pid() stays the server's.
  std::vector<std::string> launcher;
};

// A TCP port nothing listens on right now (for OPS_PORT, which has no
// "any free port" value: 0 turns it off).
std::uint16_t unused_port();

// The server's resident memory, now (VmRSS) and at its peak (VmHWM), in KiB.
long resident_kib(pid_t pid);
long peak_resident_kib(pid_t pid);

// Server options with `env` added to the harness's environment.
inline ServerOptions with_env(std::map<std::string, std::string> env, std::vector<std::string> args = {}) {
  ServerOptions options;
  options.env = std::move(env);
  options.args = std::move(args);
  return options;
}

class TestServer {
 public:
  explicit TestServer(ServerOptions options = {});
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  TestServer(TestServer&&) = delete;
  TestServer& operator=(TestServer&&) = delete;
  ~TestServer();

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The operations listener's port (OPS_PORT); 0 when it has none.
  [[nodiscard]] std::uint16_t ops_port() const { return ops_port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] std::filesystem::path database_path() const { return dir_ / "db.sqlite3"; }
  // The DATABASE_URL the harness chose (SQLite file or PostgreSQL database).
  [[nodiscard]] const std::string& database_url() const { return database_url_; }

  // Sends `signal` and waits up to `timeout` for the exit; the exit status,
  // or -1 if it had to be killed. Further calls return the same status.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  [[nodiscard]] bool running() const;
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;

 private:
  void wait_until_database_ready();
  void remove_dir() const;

  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> postgres_;
  std::string database_url_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t ops_port_ = 0;
  int exit_status_ = -2;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the binary to completion (for `migrate`, `--help`, bad settings).
RunResult run_binary(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                     const std::filesystem::path& cwd = {});

// A fresh empty directory under the system's temporary directory.
std::filesystem::path make_temp_dir();

}  // namespace users::testing
