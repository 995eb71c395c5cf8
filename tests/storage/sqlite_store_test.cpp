// The SQLite backend against a real database file: what only SQLite does.
// What every backend promises is in user_store_contract_test.cpp.
#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "support/test_server.hpp"

namespace users::storage::sqlite {
namespace {
namespace asio = boost::asio;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = users::testing::make_temp_dir();
    options_.path = (dir_ / "db.sqlite3").string();
    auto migrated = migrate(options_);
    ASSERT_TRUE(migrated) << migrated.error();
    auto opened = open_store(options_);
    ASSERT_TRUE(opened) << opened.error();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs one awaitable to completion on a private io_context.
  template <typename T>
  T run(asio::awaitable<T> operation) {
    asio::io_context io;
    auto future = asio::co_spawn(io, std::move(operation), asio::use_future);
    io.run();
    return future.get();
  }

  std::filesystem::path dir_;
  SqliteOptions options_;
  std::unique_ptr<UserStore> store_;
};

TEST_F(SqliteStoreTest, MigrateIsIdempotent) {
  auto again = migrate(options_);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->version_before, again->version_after);
  EXPECT_TRUE(again->applied.empty());
}

}  // namespace
}  // namespace users::storage::sqlite
