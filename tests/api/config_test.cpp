// Configuration as an operator meets it: --help and --version, bad settings
// (exit 2, one line on stderr naming the variable), .env < environment <
// flags, `migrate`, DATABASE_NAME, and adopting the Django reference's file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

extern char** environ;

namespace users::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream file(path);
  file << text;
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() : path_(make_temp_dir()) {}
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct Bounded {
  int exit_code = -1;  // -1: still running at the deadline, killed
  std::string out;
  std::string err;
};

// Like run_binary, but kills the process if it has not exited within
// `timeout`: a bad setting that is wrongly accepted makes the server start
// serving instead of exiting, and the test must then fail, not hang.
Bounded run_bounded(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra_env,
                    const fs::path& cwd, std::chrono::milliseconds timeout = 5s) {
  TempDir capture;
  std::map<std::string, std::string> env{{"HOST", "127.0.0.1"}};
  for (const char* name : {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  for (const auto& [key, value] : extra_env) env[key] = value;
  std::vector<std::string> env_entries;
  for (const auto& [key, value] : env) env_entries.push_back(key + "=" + value);
  std::vector<std::string> argv_text{binary_path()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (capture / "out").c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (capture / "err").c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv_text.front().c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv_text.front());

  Bounded result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  result.out = read_text(capture / "out");
  result.err = read_text(capture / "err");
  return result;
}

// Exit status 2 and exactly one line on stderr: "users-api: VARIABLE: ...".
void expect_bad_setting(const Bounded& result, std::string_view variable) {
  EXPECT_EQ(result.exit_code, 2) << "stderr: " << result.err << "\nstdout: " << result.out;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_TRUE(result.err.ends_with("\n")) << result.err;
  EXPECT_TRUE(result.err.starts_with("users-api: " + std::string(variable) + ": ")) << result.err;
  EXPECT_GT(result.err.size(), variable.size() + 14) << "no message after the variable: " << result.err;
}

// The "migrations applied" log line of a `migrate` or `serve` run.
boost::json::object migrations_line(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (!ec && value.is_object() && value.as_object().contains("msg") && value.as_object().at("msg").is_string() &&
        value.as_object().at("msg").as_string() == "migrations applied") {
      return value.as_object();
    }
  }
  ADD_FAILURE() << "no \"migrations applied\" line in: " << out;
  return {};
}

std::string sqlite_url(const fs::path& path) {
  return "sqlite:///" + path.string();
}

// --- SQLite helpers for preparing database files -----------------------------

class Sqlite {
 public:
  explicit Sqlite(const fs::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path.string());
  }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;
  Sqlite(Sqlite&&) = delete;
  Sqlite& operator=(Sqlite&&) = delete;
  ~Sqlite() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(sql + ": " + message);
    }
  }

  // The first column of every row, as text.
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    while (sqlite3_step(statement) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(statement, 0);
      out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(statement);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Exactly what `manage.py migrate` of the reference leaves behind for the
// users table, with Django's own bookkeeping table.
constexpr const char* kDjangoSchema = R"sql(
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL,
                                  "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO django_migrations (app, name, applied) VALUES ('contenttypes', '0001_initial', '2024-01-01 00:00:00'),
                                                           ('api', '0001_initial', '2024-01-01 00:00:01');
CREATE TABLE "api_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "dni" varchar(13) NOT NULL UNIQUE, "name" varchar(30) NOT NULL);
)sql";

// --- --help and --version -----------------------------------------------

TEST(Config, HelpExitsZeroAndDescribesTheSettings) {
  const auto result = run_binary({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* expected : {"users-api", "--port", "PORT", "DATABASE_URL", "MAX_BODY_BYTES", "migrate", "serve"}) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << "--help does not mention " << expected << ":\n"
                                                            << result.out;
  }
  EXPECT_TRUE(result.err.empty()) << result.err;
}

TEST(Config, VersionExitsZeroAndPrintsTheVersion) {
  const auto result = run_binary({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(USERS_API_VERSION), std::string::npos) << result.out;
  EXPECT_LT(std::count(result.out.begin(), result.out.end(), '\n'), 3) << result.out;
}

TEST(Config, UnknownFlagOrSubcommandExitsTwo) {
  TempDir dir;
  const auto flag = run_bounded({"--no-such-flag"}, {}, dir.path());
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_EQ(std::count(flag.err.begin(), flag.err.end(), '\n'), 1) << flag.err;
  const auto command = run_bounded({"explode"}, {}, dir.path());
  EXPECT_EQ(command.exit_code, 2) << command.err;
}

// --- bad settings -----------------------------------------------------------

TEST(Config, BadSettingsExitTwoWithOneLineNamingTheVariable) {
  TempDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"PORT", "abc"},
      {"PORT", "70000"},
      {"PORT", "-1"},
      {"PORT", "80 80"},
      {"THREADS", "0"},
      {"THREADS", "many"},
      {"LOG_LEVEL", "loud"},
      {"DATABASE_URL", "mysql://x"},
      {"DATABASE_URL", "not a url"},
      {"IDLE_TIMEOUT", "-1"},
      {"IDLE_TIMEOUT", "0"},
      {"REQUEST_TIMEOUT", "soon"},
      {"WRITE_TIMEOUT", "nan"},
      {"SHUTDOWN_TIMEOUT", "inf"},
      {"MAX_BODY_BYTES", "0"},
      {"MAX_HEADER_BYTES", "10"},
      {"MAX_CONNECTIONS", "-5"},
      {"SQLITE_SYNCHRONOUS", "sometimes"},
      {"SQLITE_CACHE_USERS", "-1"},
      {"LOG_QUEUE_LINES", "0"},
      {"LOG_QUEUE_BYTES", "lots"},
      {"DNI_PATTERN", "("},
  };
  for (const auto& [variable, value] : cases) {
    SCOPED_TRACE(std::string(variable) + "=" + value);
    std::map<std::string, std::string> env{{"PORT", "0"}};
    env[variable] = value;  // replaces PORT=0 for the PORT cases
    expect_bad_setting(run_bounded({"serve"}, env, dir.path()), variable);
  }
  // Nothing was created in the working directory by a refused start.
  EXPECT_FALSE(fs::exists(dir / "db.sqlite3"));
}

TEST(Config, DniPatternThatDoesNotCompileStopsTheStart) {
  TempDir dir;
  for (const auto& args : {std::vector<std::string>{"serve"}, std::vector<std::string>{"migrate"}}) {
    SCOPED_TRACE(args.front());
    const auto result = run_bounded(args, {{"PORT", "0"}, {"DNI_PATTERN", "("}}, dir.path());
    expect_bad_setting(result, "DNI_PATTERN");
    EXPECT_EQ(result.err,
              "users-api: DNI_PATTERN: \"(\" does not compile: Unmatched marking parenthesis ( or \\(. "
              "(at character 1)\n");
  }
  const auto flag = run_bounded({"--dni-pattern", "[0-9", "serve"}, {{"PORT", "0"}}, dir.path());
  expect_bad_setting(flag, "DNI_PATTERN");
  EXPECT_FALSE(fs::exists(dir / "db.sqlite3"));
}

TEST(Config, BadSettingGivenAsAFlagExitsTwo) {
  TempDir dir;
  const auto result = run_bounded({"--port", "abc", "serve"}, {}, dir.path());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("PORT"), std::string::npos) << result.err;
}

TEST(Config, DatabaseInAMissingOrUnwritableDirectoryExitsTwo) {
  TempDir dir;
  write_text(dir / "a-file", "not a directory\n");
  const std::string cases[] = {
      sqlite_url(dir / "missing" / "deeper" / "db.sqlite3"),  // the directory does not exist
      sqlite_url(dir / "a-file" / "db.sqlite3"),              // its "directory" is a file
      "sqlite:////proc/users-api-test.sqlite3",               // nobody, root included, may create files here
  };
  for (const auto& url : cases) {
    SCOPED_TRACE(url);
    expect_bad_setting(run_bounded({"serve"}, {{"PORT", "0"}, {"DATABASE_URL", url}}, dir.path()), "DATABASE_URL");
    expect_bad_setting(run_bounded({"migrate"}, {{"DATABASE_URL", url}}, dir.path()), "DATABASE_URL");
  }
}

// --- precedence: .env < environment < flags ---------------------------------

TEST(Config, DotenvInTheWorkingDirectoryIsRead) {
  TempDir dir;
  write_text(dir / ".env",
             "# settings for the test\nexport DATABASE_URL=sqlite:///from-dotenv.sqlite3\n\nLOG_LEVEL=info\n");
  const auto result = run_binary({"migrate"}, {}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir / "from-dotenv.sqlite3"));
  EXPECT_FALSE(fs::exists(dir / "db.sqlite3"));

  // PORT from .env is validated like any other source.
  write_text(dir / ".env", "PORT=abc\n");
  expect_bad_setting(run_bounded({"serve"}, {}, dir.path()), "PORT");
}

TEST(Config, DotenvQuotedValueWithTrailingComment) {
  // A common .env form (python-dotenv, docker compose): quotes and a comment.
  TempDir dir;
  write_text(dir / ".env", "DATABASE_URL=\"sqlite:///quoted.sqlite3\"  # the reference's file\n");
  const auto result = run_binary({"migrate"}, {}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir / "quoted.sqlite3"));
}

TEST(Config, EnvironmentWinsOverDotenv) {
  TempDir dir;
  write_text(dir / ".env", "DATABASE_URL=sqlite:///from-dotenv.sqlite3\nPORT=abc\n");
  const auto result =
      run_binary({"migrate"}, {{"DATABASE_URL", "sqlite:///from-env.sqlite3"}, {"PORT", "0"}}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir / "from-env.sqlite3"));
  EXPECT_FALSE(fs::exists(dir / "from-dotenv.sqlite3"));
}

TEST(Config, FlagsWinOverTheEnvironment) {
  TempDir dir;
  const auto result = run_binary({"--database-url", "sqlite:///from-flag.sqlite3", "--port", "0", "migrate"},
                                 {{"DATABASE_URL", "sqlite:///from-env.sqlite3"}, {"PORT", "abc"}}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir / "from-flag.sqlite3"));
  EXPECT_FALSE(fs::exists(dir / "from-env.sqlite3"));
  // Flags after the subcommand work too.
  const auto after = run_binary({"migrate", "--database-url", "sqlite:///after.sqlite3"},
                                {{"DATABASE_URL", "sqlite:///from-env.sqlite3"}}, dir.path());
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(fs::exists(dir / "after.sqlite3"));
  EXPECT_FALSE(fs::exists(dir / "from-env.sqlite3"));
}

TEST(Config, FlagsReachTheRunningServer) {
  // --max-body-bytes given as a flag beats MAX_BODY_BYTES in the environment.
  TestServer server(with_env({{"MAX_BODY_BYTES", "1048576"}}, {"--max-body-bytes", "1024", "serve"}));
  HttpClient client(server.port());
  const auto response = client.post_json("/api/users/", R"({"dni":"f1","name":")" + std::string(2000, 'x') + R"("})");
  EXPECT_EQ(response.result_int(), 413) << response.body();
}

// --- migrate and DATABASE_NAME ------------------------------------------------

TEST(Config, MigrateCreatesTheSchemaOnceAndExitsZero) {
  TempDir dir;
  const auto path = dir / "db.sqlite3";
  const auto first = run_binary({"migrate"}, {{"DATABASE_URL", sqlite_url(path)}});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(first.err.empty()) << first.err;
  const auto applied = migrations_line(first.out);
  ASSERT_TRUE(applied.contains("applied"));
  EXPECT_FALSE(applied.at("applied").as_array().empty());
  EXPECT_EQ(applied.at("applied").as_array().front().as_string(), "0001_create_api_user");
  {
    Sqlite db(path);
    EXPECT_EQ(db.column("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'api_user'").size(), 1U);
    EXPECT_EQ(db.column("SELECT count(*) FROM api_user"), std::vector<std::string>{"0"});
  }

  const auto second = run_binary({"migrate"}, {{"DATABASE_URL", sqlite_url(path)}});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto again = migrations_line(second.out);
  ASSERT_TRUE(again.contains("applied"));
  EXPECT_TRUE(again.at("applied").as_array().empty()) << boost::json::serialize(again);
  EXPECT_EQ(again.at("schema_version"), applied.at("schema_version"));
}

TEST(Config, DatabaseNameSelectsTheSqliteFile) {
  TempDir dir;
  const auto path = dir / "reference-name.sqlite3";
  const auto migrated = run_binary({"migrate"}, {{"DATABASE_NAME", path.string()}}, dir.path());
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(dir / "db.sqlite3"));

  {
    // An empty DATABASE_URL leaves the choice to DATABASE_NAME.
    TestServer server(with_env({{"DATABASE_URL", ""}, {"DATABASE_NAME", path.string()}}));
    HttpClient client(server.port());
    ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"byname","name":"Named"})").result_int(), 201);
  }
  Sqlite db(path);
  EXPECT_EQ(db.column("SELECT dni FROM api_user"), std::vector<std::string>{"byname"});

  // DATABASE_URL wins over DATABASE_NAME.
  const auto both = run_binary({"migrate"}, {{"DATABASE_NAME", (dir / "name.sqlite3").string()},
                                             {"DATABASE_URL", sqlite_url(dir / "url.sqlite3")}});
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_TRUE(fs::exists(dir / "url.sqlite3"));
  EXPECT_FALSE(fs::exists(dir / "name.sqlite3"));
}

// --- the Django reference's database ------------------------------------------

TEST(Config, DatabaseCreatedByTheDjangoReferenceIsAdopted) {
  TempDir dir;
  const auto path = dir / "db.sqlite3";
  {
    Sqlite db(path);
    db.exec(kDjangoSchema);
    db.exec(R"(INSERT INTO api_user (dni, name) VALUES ('111', 'Ana'), ('222', 'Bea'), ('333', 'Ciro'), ('444', 'Dan');
               DELETE FROM api_user WHERE id IN (2, 4);)");
  }
  {
    TestServer server(with_env({{"DATABASE_URL", sqlite_url(path)}}));
    HttpClient client(server.port());
    const auto list = client.get("/api/users/");
    EXPECT_EQ(list.result_int(), 200);
    EXPECT_EQ(list.body(), R"([{"id":1,"dni":"111","name":"Ana"},{"id":3,"dni":"333","name":"Ciro"}])");
    EXPECT_EQ(client.get("/api/users/3/").body(), R"({"id":3,"dni":"333","name":"Ciro"})");
    // The old dni are still taken; new ids continue after the highest ever used (4, deleted).
    EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"111","name":"Again"})").body(),
              R"({"detail":"User already exists"})");
    const auto created = client.post_json("/api/users/", R"({"dni":"555","name":"Eva"})");
    EXPECT_EQ(created.result_int(), 201);
    EXPECT_EQ(created.body(), R"({"id":5,"dni":"555","name":"Eva"})");
    EXPECT_EQ(server.stop(), 0);
  }
  Sqlite db(path);
  EXPECT_EQ(db.column("SELECT name FROM django_migrations ORDER BY id"),
            (std::vector<std::string>{"0001_initial", "0001_initial"}))
      << "Django's bookkeeping was touched";
  EXPECT_EQ(db.column("SELECT id FROM api_user ORDER BY id"), (std::vector<std::string>{"1", "3", "5"}));
  // The reference's table definition is kept as Django wrote it.
  const auto sql = db.column("SELECT sql FROM sqlite_master WHERE name = 'api_user'");
  ASSERT_EQ(sql.size(), 1U);
  EXPECT_NE(sql[0].find(R"("dni" varchar(13) NOT NULL UNIQUE)"), std::string::npos) << sql[0];

  // A second start applies nothing more.
  const auto rerun = run_binary({"migrate"}, {{"DATABASE_URL", sqlite_url(path)}});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(migrations_line(rerun.out).at("applied").as_array().empty());
}

TEST(Config, ApiUserTableWithoutTheUniqueIndexIsRefused) {
  TempDir dir;
  const auto path = dir / "db.sqlite3";
  {
    Sqlite db(path);
    db.exec(R"(CREATE TABLE "api_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "dni" varchar(13) NOT NULL,
                                        "name" varchar(30) NOT NULL);
               INSERT INTO api_user (dni, name) VALUES ('111', 'Ana'), ('111', 'Twin');)");
  }
  for (const char* command : {"migrate", "serve"}) {
    SCOPED_TRACE(command);
    const auto result = run_bounded({command}, {{"PORT", "0"}, {"DATABASE_URL", sqlite_url(path)}}, dir.path());
    expect_bad_setting(result, "DATABASE_URL");
    EXPECT_NE(result.err.find("unique"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("dni"), std::string::npos) << result.err;
  }
  // The refused file is left as it was.
  Sqlite db(path);
  EXPECT_EQ(db.column("SELECT count(*) FROM api_user"), std::vector<std::string>{"2"});
  EXPECT_TRUE(db.column("SELECT name FROM sqlite_master WHERE name = 'users_api_migrations'").empty());
}

}  // namespace
}  // namespace users::testing
