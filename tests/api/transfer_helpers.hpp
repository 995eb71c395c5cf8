// For the dumpdata, loaddata, copy and backup tests: a scratch database on
// the backend the run is for (a SQLite file, or a fresh PostgreSQL database
// when USERS_API_TEST_POSTGRES_* is set), and the binary run against it.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::testing {

class ScratchDatabase {
 public:
  ScratchDatabase() : dir_(make_temp_dir()) {
    if (uses_postgres()) {
      postgres_ = std::make_unique<TestDatabase>();
      url_ = postgres_->url();
    } else {
      url_ = "sqlite:///" + (dir_ / "db.sqlite3").string();
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ScratchDatabase(ScratchDatabase&&) = delete;
  ScratchDatabase& operator=(ScratchDatabase&&) = delete;
  ~ScratchDatabase() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  [[nodiscard]] const std::string& url() const { return url_; }
  // A directory for the test's files, removed with the database.
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // The binary with DATABASE_URL set to this database.
  [[nodiscard]] RunResult run(const std::vector<std::string>& args) const {
    return run_binary(args, {{"DATABASE_URL", url_}}, dir_);
  }

  // Writes `text` to a file in dir() and returns its path.
  [[nodiscard]] std::string write_file(const std::string& name, const std::string& text) const {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // What dumpdata writes to stdout now.
  [[nodiscard]] std::string dump() const { return run({"dumpdata"}).out; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> postgres_;
  std::string url_;
};

}  // namespace users::testing
