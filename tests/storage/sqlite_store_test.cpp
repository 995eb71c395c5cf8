// The SQLite backend against a real database file.
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

TEST_F(SqliteStoreTest, CreatesFindsUpdatesAndRemoves) {
  auto created = run(store_->create("123", "Ana"));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->id, 1);

  auto found = run(store_->find(created->id));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->name, "Ana");

  domain::UserChanges changes;
  changes.name = "Bea";
  auto updated = run(store_->update(created->id, changes));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->dni, "123");
  EXPECT_EQ(updated->name, "Bea");

  EXPECT_TRUE(run(store_->remove(created->id)));
  auto gone = run(store_->find(created->id));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto again = run(store_->remove(created->id));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, StoreError::Kind::kNotFound);
}

TEST_F(SqliteStoreTest, UniqueIndexRefusesADuplicateDni) {
  ASSERT_TRUE(run(store_->create("123", "Ana")));
  auto duplicate = run(store_->create("123", "Bob"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, StoreError::Kind::kDniTaken);

  auto other = run(store_->create("456", "Cid"));
  ASSERT_TRUE(other);
  domain::UserChanges changes;
  changes.dni = "123";
  auto clash = run(store_->update(other->id, changes));
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().kind, StoreError::Kind::kDniTaken);
}

TEST_F(SqliteStoreTest, IdsAreNeverReused) {
  auto first = run(store_->create("1", "a"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(run(store_->remove(first->id)));
  auto second = run(store_->create("2", "b"));
  ASSERT_TRUE(second);
  EXPECT_GT(second->id, first->id);
}

TEST_F(SqliteStoreTest, DniExistsCanExcludeOneUser) {
  auto user = run(store_->create("123", "Ana"));
  ASSERT_TRUE(user);
  EXPECT_TRUE(*run(store_->dni_exists("123", std::nullopt)));
  EXPECT_FALSE(*run(store_->dni_exists("123", user->id)));
  EXPECT_FALSE(*run(store_->dni_exists("124", std::nullopt)));
}

TEST_F(SqliteStoreTest, ListsPagesInIdOrder) {
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(run(store_->create(std::to_string(i), "n")));
  std::vector<domain::User> seen;
  domain::UserId after = 0;
  for (;;) {
    auto page = run(store_->list_page(after, 10, {}));
    ASSERT_TRUE(page);
    if (page->empty()) break;
    after = page->back().id;
    seen.insert(seen.end(), page->begin(), page->end());
  }
  ASSERT_EQ(seen.size(), 25U);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1].id, seen[i].id);
}

TEST_F(SqliteStoreTest, MigrateIsIdempotent) {
  auto again = migrate(options_);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->version_before, again->version_after);
  EXPECT_TRUE(again->applied.empty());
}

}  // namespace
}  // namespace users::storage::sqlite
