// What every UserStore promises, as one typed suite run on each backend:
// SQLite on a file in a temporary directory, PostgreSQL on a fresh database
// of the test cluster (the Postgres/ instantiation runs only in the
// postgres registration of tests/CMakeLists.txt). What only one backend
// does stays in sqlite_store_test.cpp and postgres_store_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/database_url.hpp"
#include "storage/postgres/postgres_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support/postgres.hpp"
#include "support/test_server.hpp"

namespace users::storage {
namespace {
namespace asio = boost::asio;
using Kind = StoreError::Kind;

struct SqliteBackend {
  SqliteBackend() : dir(users::testing::make_temp_dir()) {
    sqlite::SqliteOptions options;
    options.path = (dir / "db.sqlite3").string();
    if (auto migrated = sqlite::migrate(options); !migrated) {
      error = migrated.error();
      return;
    }
    auto opened = sqlite::open_store(options);
    if (!opened) {
      error = opened.error();
      return;
    }
    store = std::move(*opened);
  }
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  SqliteBackend(SqliteBackend&&) = delete;
  SqliteBackend& operator=(SqliteBackend&&) = delete;
  ~SqliteBackend() {
    store.reset();
    std::filesystem::remove_all(dir);
  }

  std::filesystem::path dir;
  std::unique_ptr<UserStore> store;
  std::string error;
};

struct PostgresBackend {
  PostgresBackend() {
    postgres::PostgresOptions options;
    options.url = db.url();
    options.redacted_url = common::redact_url(options.url);
    options.pool_size = 2;
    options.threads = 1;
    options.connect_timeout = std::chrono::seconds(5);
    if (auto migrated = postgres::migrate(options); !migrated) {
      error = migrated.error();
      return;
    }
    auto opened = postgres::open_store(std::move(options));
    if (!opened->wait_until_ready(std::chrono::seconds(20))) {
      error = "PostgreSQL store not ready";
      return;
    }
    store = std::move(opened);
  }

  users::testing::TestDatabase db;
  std::unique_ptr<UserStore> store;
  std::string error;
};

// One io_context for the whole test: a PostgreSQL store's connections
// belong to the io_context (and thread) that first used them.
const ListQuery kEveryUser;

ListWindow first_n(std::size_t limit) {
  return ListWindow{limit, 0, std::nullopt, false};
}
ListWindow after_id(domain::UserId id, std::size_t limit) {
  return ListWindow{limit, 0, domain::User{id, {}, {}}, false};
}

std::vector<domain::UserId> ids_of(const std::vector<domain::User>& users) {
  std::vector<domain::UserId> ids;
  for (const auto& user : users) ids.push_back(user.id);
  return ids;
}

template <typename Backend>
class UserStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<Backend>();
    ASSERT_TRUE(backend_->store) << backend_->error;
    store_ = backend_->store.get();
  }
  void TearDown() override { backend_.reset(); }

  template <typename T>
  T run(asio::awaitable<T> operation) {
    auto future = asio::co_spawn(io_, std::move(operation), asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }

  asio::io_context io_{1};
  std::unique_ptr<Backend> backend_;
  UserStore* store_ = nullptr;
};

TYPED_TEST_SUITE_P(UserStoreContract);

TYPED_TEST_P(UserStoreContract, CreatesFindsUpdatesAndRemoves) {
  auto& store = *this->store_;
  auto created = this->run(store.create("123", "Ana"));
  ASSERT_TRUE(created) << created.error().detail;
  EXPECT_EQ(created->id, 1);

  auto found = this->run(store.find(created->id));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->dni, "123");
  EXPECT_EQ((*found)->name, "Ana");

  domain::UserChanges changes;
  changes.name = "Bea";
  auto updated = this->run(store.update(created->id, changes, domain::Precondition::any_user()));
  ASSERT_TRUE(updated) << updated.error().detail;
  EXPECT_EQ(updated->dni, "123");
  EXPECT_EQ(updated->name, "Bea");

  auto removed = this->run(store.remove(created->id, domain::Precondition::any_user()));
  ASSERT_TRUE(removed) << removed.error().detail;
  EXPECT_EQ(removed->id, created->id);
  EXPECT_EQ(removed->dni, "123");
  EXPECT_EQ(removed->name, "Bea");
  auto gone = this->run(store.find(created->id));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto again = this->run(store.remove(created->id, domain::Precondition::any_user()));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Kind::kNotFound);
  auto missing = this->run(store.update(created->id, changes, domain::Precondition::any_user()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Kind::kNotFound);
}

TYPED_TEST_P(UserStoreContract, UniqueIndexRefusesADuplicateDni) {
  auto& store = *this->store_;
  ASSERT_TRUE(this->run(store.create("123", "Ana")));
  auto duplicate = this->run(store.create("123", "Bob"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, Kind::kDniTaken);

  auto other = this->run(store.create("456", "Cid"));
  ASSERT_TRUE(other);
  domain::UserChanges changes;
  changes.dni = "123";
  auto taken = this->run(store.update(other->id, changes, domain::Precondition::any_user()));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, Kind::kDniTaken);
}

TYPED_TEST_P(UserStoreContract, IdsAreNeverReused) {
  auto& store = *this->store_;
  auto first = this->run(store.create("1", "a"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(this->run(store.remove(first->id, domain::Precondition::any_user())));
  auto second = this->run(store.create("2", "b"));
  ASSERT_TRUE(second);
  EXPECT_GT(second->id, first->id);
}

TYPED_TEST_P(UserStoreContract, DniExistsCanExcludeOneUser) {
  auto& store = *this->store_;
  auto user = this->run(store.create("123", "Ana"));
  ASSERT_TRUE(user);
  EXPECT_TRUE(*this->run(store.dni_exists("123", std::nullopt)));
  EXPECT_FALSE(*this->run(store.dni_exists("123", user->id)));
  EXPECT_FALSE(*this->run(store.dni_exists("124", std::nullopt)));
}

TYPED_TEST_P(UserStoreContract, DniComparisonIsExactAndCaseSensitive) {
  auto& store = *this->store_;
  auto created = this->run(store.create("abc", "Ana"));
  ASSERT_TRUE(created);
  EXPECT_TRUE(*this->run(store.dni_exists("abc", std::nullopt)));
  EXPECT_FALSE(*this->run(store.dni_exists("ABC", std::nullopt)));
  EXPECT_FALSE(*this->run(store.dni_exists("abc ", std::nullopt)));
  EXPECT_FALSE(*this->run(store.dni_exists("ab", std::nullopt)));
  EXPECT_FALSE(*this->run(store.dni_exists("abc", created->id)));  // the user itself does not count
  EXPECT_TRUE(this->run(store.create("ABC", "Bea")));              // another dni, not a duplicate
}

TYPED_TEST_P(UserStoreContract, ListsPagesInIdOrder) {
  auto& store = *this->store_;
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(this->run(store.create(std::to_string(i), "n")));
  std::vector<domain::User> seen;
  domain::UserId after = 0;
  for (;;) {
    auto page = this->run(store.list_page(kEveryUser, after_id(after, 10), {}));
    ASSERT_TRUE(page);
    if (page->empty()) break;
    after = page->back().id;
    seen.insert(seen.end(), page->begin(), page->end());
  }
  ASSERT_EQ(seen.size(), 25U);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1].id, seen[i].id);
}

TYPED_TEST_P(UserStoreContract, PagesAreAscendingAndIdsAreNeverReused) {
  auto& store = *this->store_;
  for (const char* dni : {"1", "2", "3", "4", "5"}) ASSERT_TRUE(this->run(store.create(dni, "x")));
  ASSERT_TRUE(this->run(store.remove(3, domain::Precondition::any_user())));
  auto first = this->run(store.list_page(kEveryUser, first_n(2), {}));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 2U);
  EXPECT_EQ((*first)[0].id, 1);
  EXPECT_EQ((*first)[1].id, 2);
  auto rest = this->run(store.list_page(kEveryUser, after_id(2, 10), std::move(*first)));
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2U);
  EXPECT_EQ((*rest)[0].id, 4);
  EXPECT_EQ((*rest)[1].id, 5);
  EXPECT_EQ((*rest)[1].dni, "5");

  ASSERT_TRUE(this->run(store.remove(5, domain::Precondition::any_user())));
  auto next = this->run(store.create("6", "y"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, 6);  // not 5 again
}

// The same users, filtered: exact dni, and search terms that must each be
// in the dni or the name, case-insensitively (ASCII at least: SQLite folds
// no more, as Django's icontains on SQLite does).
TYPED_TEST_P(UserStoreContract, FiltersByExactDniAndBySearchTerms) {
  auto& store = *this->store_;
  for (const auto& [dni, name] : std::vector<std::pair<std::string, std::string>>{
           {"111A", "Ana Lopez"}, {"222B", "Bea Ana"}, {"333C", "Cid"}, {"ana", "Dora"}}) {
    ASSERT_TRUE(this->run(store.create(dni, name)));
  }
  ListQuery query;
  query.filter.dni = "222B";
  EXPECT_EQ(ids_of(*this->run(store.list_page(query, first_n(10), {}))), (std::vector<domain::UserId>{2}));
  EXPECT_EQ(*this->run(store.count(query.filter)), 1);
  query.filter.dni = "222b";  // exact: case counts
  EXPECT_TRUE(this->run(store.list_page(query, first_n(10), {}))->empty());

  query = {};
  query.filter.search_terms = {"ANA"};
  EXPECT_EQ(ids_of(*this->run(store.list_page(query, first_n(10), {}))), (std::vector<domain::UserId>{1, 2, 4}));
  EXPECT_EQ(*this->run(store.count(query.filter)), 3);
  query.filter.search_terms = {"ana", "b"};  // every term: "222B"/"Bea Ana"
  EXPECT_EQ(ids_of(*this->run(store.list_page(query, first_n(10), {}))), (std::vector<domain::UserId>{2}));
  query.filter.search_terms = {"%"};  // no wildcard: a plain character
  EXPECT_TRUE(this->run(store.list_page(query, first_n(10), {}))->empty());
  EXPECT_EQ(*this->run(store.count(query.filter)), 0);
  query.filter.search_terms = {std::string("a\0b", 3)};  // a NUL matches nothing, and fails nothing
  EXPECT_TRUE(this->run(store.list_page(query, first_n(10), {}))->empty());
  EXPECT_EQ(*this->run(store.count(query.filter)), 0);
  EXPECT_EQ(*this->run(store.count(UserFilter{})), 4);
}

// Orderings over each field, both ways, ties broken by id; keyset windows
// continue exactly past a row, forwards and backwards; offsets skip.
TYPED_TEST_P(UserStoreContract, OrdersAndWindowsByKeysetOrOffset) {
  auto& store = *this->store_;
  for (const auto& [dni, name] :
       std::vector<std::pair<std::string, std::string>>{{"5", "b"}, {"3", "a"}, {"4", "b"}, {"1", "c"}, {"2", "a"}}) {
    ASSERT_TRUE(this->run(store.create(dni, name)));
  }
  ListQuery by_name;
  by_name.ordering = {SortKey{SortField::kName, false}};
  const auto all = *this->run(store.list_page(by_name, first_n(10), {}));
  EXPECT_EQ(ids_of(all), (std::vector<domain::UserId>{2, 5, 1, 3, 4}));  // a(2,5) b(1,3) c(4)

  ListQuery by_name_desc_dni;
  by_name_desc_dni.ordering = {SortKey{SortField::kName, true}, SortKey{SortField::kDni, false}};
  const auto desc = *this->run(store.list_page(by_name_desc_dni, first_n(10), {}));
  EXPECT_EQ(ids_of(desc), (std::vector<domain::UserId>{4, 3, 1, 5, 2}));  // c, b("4","5"), a("2","3")

  // Walk by name two at a time, past the last row each time.
  std::vector<domain::UserId> walked;
  std::optional<domain::User> last;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = *this->run(store.list_page(by_name, ListWindow{2, 0, last, false}, {}));
    if (page.empty()) break;
    for (const auto& user : page) walked.push_back(user.id);
    last = page.back();
  }
  EXPECT_EQ(walked, ids_of(all));

  // Backwards from the 4th row: the rows before it, nearest first.
  auto before = *this->run(store.list_page(by_name, ListWindow{10, 0, all[3], true}, {}));
  EXPECT_EQ(ids_of(before), (std::vector<domain::UserId>{1, 5, 2}));
  auto after_mixed = *this->run(store.list_page(by_name_desc_dni, ListWindow{10, 0, desc[1], false}, {}));
  EXPECT_EQ(ids_of(after_mixed), (std::vector<domain::UserId>{1, 5, 2}));

  // Offsets, and the default order (by id).
  EXPECT_EQ(ids_of(*this->run(store.list_page(by_name, ListWindow{2, 3, std::nullopt, false}, {}))),
            (std::vector<domain::UserId>{3, 4}));
  EXPECT_EQ(ids_of(*this->run(store.list_page(kEveryUser, ListWindow{2, 1, std::nullopt, false}, {}))),
            (std::vector<domain::UserId>{2, 3}));
  ListQuery by_id_desc;
  by_id_desc.ordering = {SortKey{SortField::kId, true}, SortKey{SortField::kName, false}};  // after the id: moot
  EXPECT_EQ(ids_of(*this->run(store.list_page(by_id_desc, first_n(3), {}))), (std::vector<domain::UserId>{5, 4, 3}));
}

// The tag each backend checks is domain::entity_tag (PostgreSQL computes it
// in SQL): a write holding the user's current tag goes through, whatever
// characters the user has; one holding another tag changes nothing.
TYPED_TEST_P(UserStoreContract, AWriteWithAPreconditionChecksTheCurrentTag) {
  auto& store = *this->store_;
  auto created = this->run(store.create("\xC3\x91-12\xC3\xA9", "Zo\xC3\xAB \xE6\x9D\xB1 \xF0\x9F\x98\x80"));
  ASSERT_TRUE(created) << created.error().detail;
  const auto tag = domain::entity_tag(*created);
  EXPECT_EQ(tag.size(), 32U);

  domain::UserChanges changes;
  changes.name = "Bea";
  auto stale = this->run(
      store.update(created->id, changes, domain::Precondition::one_of({"0123456789abcdef0123456789abcdef", "x"})));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, Kind::kPreconditionFailed);
  auto none = this->run(store.update(created->id, changes, domain::Precondition::one_of({})));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, Kind::kPreconditionFailed);
  auto unchanged = this->run(store.find(created->id));
  ASSERT_TRUE(unchanged && unchanged->has_value());
  EXPECT_EQ(**unchanged, *created);

  auto updated = this->run(store.update(created->id, changes, domain::Precondition::one_of({"ab", tag})));
  ASSERT_TRUE(updated) << updated.error().detail;
  EXPECT_EQ(updated->name, "Bea");
  auto again = this->run(store.update(created->id, changes, domain::Precondition::one_of({tag})));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Kind::kPreconditionFailed);

  auto kept = this->run(store.remove(created->id, domain::Precondition::one_of({tag})));
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().kind, Kind::kPreconditionFailed);
  auto removed = this->run(store.remove(created->id, domain::Precondition::one_of({domain::entity_tag(*updated)})));
  ASSERT_TRUE(removed) << removed.error().detail;
  EXPECT_EQ(*removed, *updated);
  auto missing = this->run(store.remove(created->id, domain::Precondition::one_of({tag})));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Kind::kNotFound);
  auto missing_update = this->run(store.update(created->id, changes, domain::Precondition::one_of({tag})));
  ASSERT_FALSE(missing_update);
  EXPECT_EQ(missing_update.error().kind, Kind::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(UserStoreContract, CreatesFindsUpdatesAndRemoves, UniqueIndexRefusesADuplicateDni,
                            IdsAreNeverReused, DniExistsCanExcludeOneUser, DniComparisonIsExactAndCaseSensitive,
                            ListsPagesInIdOrder, PagesAreAscendingAndIdsAreNeverReused,
                            FiltersByExactDniAndBySearchTerms, OrdersAndWindowsByKeysetOrOffset,
                            AWriteWithAPreconditionChecksTheCurrentTag);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, UserStoreContract, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, UserStoreContract, PostgresBackend);

}  // namespace
}  // namespace users::storage
