// What storage/list_sql.cpp writes: client values only as placeholders, the
// keyset condition turned for each key's direction, on both dialects.
#include "storage/list_sql.hpp"

#include <gtest/gtest.h>

namespace users::storage {
namespace {

TEST(ListSql, ThePlainListIsTheKeysetPageByIdAndNoValueIsInTheText) {
  const ListQuery every;
  const auto first = list_sql(every, ListWindow{1000, 0, std::nullopt, false}, Dialect::kSqlite);
  EXPECT_EQ(first.text, "SELECT id, dni, name FROM api_user ORDER BY id LIMIT ?1");
  const auto next = list_sql(every, ListWindow{1000, 0, domain::User{7, "x", "y"}, false}, Dialect::kPostgres);
  EXPECT_EQ(next.text, "SELECT id, dni, name FROM api_user WHERE ((id > $1)) ORDER BY id LIMIT $2");
  ASSERT_EQ(next.params.size(), 2U);
  EXPECT_EQ(std::get<std::int64_t>(next.params[0]), 7);
}

TEST(ListSql, FiltersAndKeysetsAreParameters) {
  ListQuery query;
  query.filter.dni = "1' OR '1'='1";
  query.filter.search_terms = {"%_'\\", "b"};
  query.ordering = {SortKey{SortField::kName, true}, SortKey{SortField::kDni, false}};
  const auto sql = list_sql(query, ListWindow{10, 0, domain::User{3, "d'", "n'"}, true}, Dialect::kSqlite);
  EXPECT_EQ(sql.text,
            "SELECT id, dni, name FROM api_user WHERE dni = ?1"
            " AND (instr(lower(dni), lower(?2)) > 0 OR instr(lower(name), lower(?2)) > 0)"
            " AND (instr(lower(dni), lower(?3)) > 0 OR instr(lower(name), lower(?3)) > 0)"
            // backwards: name descending becomes >, dni ascending <, and the id too
            " AND ((name > ?4) OR (name = ?4 AND dni < ?5) OR (name = ?4 AND dni = ?5 AND id < ?6))"
            " ORDER BY name, dni DESC, id DESC LIMIT ?7");
  EXPECT_EQ(sql.text.find('\''), std::string::npos);
  EXPECT_EQ(std::get<std::string>(sql.params[0]), "1' OR '1'='1");
  const auto counted = count_sql(query.filter, Dialect::kPostgres);
  EXPECT_EQ(counted.text,
            "SELECT count(*) FROM api_user WHERE dni = $1"
            " AND (strpos(lower(dni), lower($2::text)) > 0 OR strpos(lower(name), lower($2::text)) > 0)"
            " AND (strpos(lower(dni), lower($3::text)) > 0 OR strpos(lower(name), lower($3::text)) > 0)");
}

TEST(ListSql, OrderingsEndWithTheIdOnceAndRepeatsAreDropped) {
  using K = SortKey;
  EXPECT_EQ(effective_ordering({}), (std::vector<K>{K{SortField::kId, false}}));
  EXPECT_EQ(effective_ordering({K{SortField::kName, true}, K{SortField::kName, false}}),
            (std::vector<K>{K{SortField::kName, true}, K{SortField::kId, false}}));
  EXPECT_EQ(effective_ordering({K{SortField::kId, true}, K{SortField::kDni, false}}),
            (std::vector<K>{K{SortField::kId, true}}));
  const auto offset = list_sql(ListQuery{}, ListWindow{5, 20, std::nullopt, false}, Dialect::kSqlite);
  EXPECT_EQ(offset.text, "SELECT id, dni, name FROM api_user ORDER BY id LIMIT ?1 OFFSET ?2");
}

}  // namespace
}  // namespace users::storage
