#include "support/test_server.hpp"

#include "support/postgres.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace users::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// A minimal, predictable environment: PATH and the sanitizer settings only.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (const char* name : {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  for (const auto& [key, value] : extra) env[key] = value;
  std::vector<std::string> out;
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::filesystem::path& cwd,
            const std::filesystem::path& out, const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());

  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args.front().c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args.front());
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string binary_path() {
  if (const char* path = std::getenv("USERS_API_BINARY")) return path;
  return USERS_API_TEST_BINARY;
}

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "users-api-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

TestServer::TestServer(ServerOptions options) : dir_(make_temp_dir()) {
  // No ops listener unless a test asks for one: its default port (9000)
  // would be shared by every server the suites start at once.
  std::map<std::string, std::string> env{{"PORT", "0"}, {"HOST", "127.0.0.1"}, {"THREADS", "2"}, {"OPS_PORT", "0"}};
  const bool own_database = options.env.count("DATABASE_URL") == 0 && options.env.count("DATABASE_URL_FILE") == 0;
  if (own_database && uses_postgres()) {
    postgres_ = std::make_unique<TestDatabase>();
    database_url_ = postgres_->url();
    env["DATABASE_URL"] = database_url_;
  } else if (own_database) {
    database_url_ = "sqlite:///" + database_path().string();
    env["DATABASE_URL"] = database_url_;
  } else if (options.env.count("DATABASE_URL") != 0) {
    database_url_ = options.env["DATABASE_URL"];
  }
  for (auto& [key, value] : options.env) env[key] = value;
  std::vector<std::string> args = options.launcher;
  args.push_back(binary_path());
  if (options.args.empty()) options.args = {"serve"};
  args.insert(args.end(), options.args.begin(), options.args.end());
  pid_ = spawn(args, child_environment(env), dir_, dir_ / "stdout.log", dir_ / "stderr.log");
  if (!options.wait_until_listening) return;

  // The server logs the port it bound: {"msg":"listening",...,"port":N,...},
  // or with LOG_FORMAT=text: "... INFO  listening host=... port=N ...".
  static const std::regex listening(R"re("msg":"listening".*"port":(\d+)|INFO  listening .*port=(\d+))re");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string text = stdout_text();
    if (std::regex_search(text, match, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(match[1].matched ? match[1].str() : match[2].str()));
      static const std::regex ops(R"re("ops_port":(\d+)|ops_port=(\d+))re");
      if (std::smatch ops_match; std::regex_search(text, ops_match, ops)) {
        ops_port_ =
            static_cast<std::uint16_t>(std::stoi(ops_match[1].matched ? ops_match[1].str() : ops_match[2].str()));
      }
      // PostgreSQL: the server listens at once and migrates in the
      // background; tests expect a server that serves.
      if (postgres_) wait_until_database_ready();
      return;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string why = stderr_text() + stdout_text();
  stop(SIGKILL);
  remove_dir();  // the destructor will not run
  throw std::runtime_error("users-api did not start listening: " + why);
}

void TestServer::wait_until_database_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = stdout_text();
    if (text.find(R"("msg":"database ready")") != std::string::npos ||
        text.find("INFO  database ready") != std::string::npos) {
      return;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string why = stderr_text() + stdout_text();
  stop(SIGKILL);
  remove_dir();  // the destructor will not run
  throw std::runtime_error("users-api did not get its PostgreSQL database ready: " + why);
}

void TestServer::remove_dir() const {
  std::error_code ignored;
  if (std::getenv("USERS_API_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ignored);
}

TestServer::~TestServer() {
  stop(SIGTERM);
  remove_dir();
}

bool TestServer::running() const {
  if (exit_status_ != -2) return false;
  return waitpid(pid_, nullptr, WNOHANG) == 0;
}

int TestServer::stop(int signal, std::chrono::milliseconds timeout) {
  if (exit_status_ != -2 || pid_ <= 0) return exit_status_;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = decode_status(status);
      return exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  exit_status_ = -1;
  return exit_status_;
}

std::string TestServer::stdout_text() const {
  return read_file(dir_ / "stdout.log");
}
std::string TestServer::stderr_text() const {
  return read_file(dir_ / "stderr.log");
}

RunResult run_binary(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     const std::filesystem::path& cwd) {
  const auto dir = make_temp_dir();
  std::vector<std::string> argv{binary_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, child_environment(env), cwd.empty() ? dir : cwd, dir / "out", dir / "err");
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult result{decode_status(status), read_file(dir / "out"), read_file(dir / "err")};
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return result;
}

std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

namespace {
long status_kib(pid_t pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  }
  return -1;
}
}  // namespace

long resident_kib(pid_t pid) {
  return status_kib(pid, "VmRSS:");
}

long peak_resident_kib(pid_t pid) {
  return status_kib(pid, "VmHWM:");
}

}  // namespace users::testing
