#include "storage/list_sql.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <string_view>

namespace users::storage {
namespace {

constexpr std::array<std::string_view, 3> kColumns{"id", "dni", "name"};

std::string_view column(SortField field) {
  return kColumns.at(static_cast<std::size_t>(field));
}

class Builder {
 public:
  explicit Builder(Dialect dialect) : dialect_(dialect) {}

  // A placeholder for a new parameter.
  std::string bind(SqlValue value) {
    sql_.params.push_back(std::move(value));
    return placeholder(sql_.params.size());
  }

  [[nodiscard]] std::string placeholder(std::size_t number) const {
    return fmt::format(fmt::runtime(dialect_ == Dialect::kSqlite ? "?{}" : "${}"), number);
  }

  // Case-insensitive containment, as Django's icontains: SQLite folds ASCII
  // only (as its LIKE does), PostgreSQL by the database's locale.
  [[nodiscard]] std::string contains(std::string_view column_name, const std::string& term) const {
    return fmt::format(fmt::runtime(dialect_ == Dialect::kSqlite ? "instr(lower({}), lower({})) > 0"
                                                                 : "strpos(lower({}), lower({}::text)) > 0"),
                       column_name, term);
  }

  void where(const UserFilter& filter) {
    if (filter.dni) add_condition(fmt::format("dni = {}", bind(*filter.dni)));
    for (const auto& term : filter.search_terms) {
      const auto value = bind(term);
      add_condition(fmt::format("({} OR {})", contains("dni", value), contains("name", value)));
    }
  }

  // Rows strictly past `row` in `ordering`: (k1 > v1) OR (k1 = v1 AND k2 > v2) ...,
  // each comparison turned for descending keys and for a backwards window.
  void past(const std::vector<SortKey>& ordering, const domain::User& row, bool backwards) {
    std::vector<std::string> values;
    values.reserve(ordering.size());
    for (const auto& key : ordering) {
      switch (key.field) {
        case SortField::kId: values.push_back(bind(row.id)); break;
        case SortField::kDni: values.push_back(bind(row.dni)); break;
        case SortField::kName: values.push_back(bind(row.name)); break;
      }
    }
    std::string condition = "(";
    for (std::size_t i = 0; i < ordering.size(); ++i) {
      if (i != 0) condition += " OR ";
      condition += '(';
      for (std::size_t j = 0; j < i; ++j)
        condition += fmt::format("{} = {} AND ", column(ordering[j].field), values[j]);
      const bool greater = ordering[i].descending == backwards;
      condition += fmt::format("{} {} {})", column(ordering[i].field), greater ? '>' : '<', values[i]);
    }
    condition += ')';
    add_condition(condition);
  }

  void append(std::string_view text) { sql_.text += text; }

  Sql take() { return std::move(sql_); }

 private:
  void add_condition(std::string_view condition) {
    sql_.text += conditions_++ == 0 ? " WHERE " : " AND ";
    sql_.text += condition;
  }

  Dialect dialect_;
  Sql sql_;
  int conditions_ = 0;
};

}  // namespace

std::vector<SortKey> effective_ordering(const std::vector<SortKey>& ordering) {
  std::vector<SortKey> keys;
  keys.reserve(ordering.size() + 1);
  for (const auto& key : ordering) {
    const bool seen =
        std::any_of(keys.begin(), keys.end(), [&](const SortKey& kept) { return kept.field == key.field; });
    if (!seen) keys.push_back(key);
    if (key.field == SortField::kId) break;  // unique: nothing after it changes the order
  }
  if (keys.empty() || keys.back().field != SortField::kId) keys.push_back(SortKey{SortField::kId, false});
  return keys;
}

Sql list_sql(const ListQuery& query, const ListWindow& window, Dialect dialect) {
  const auto ordering = effective_ordering(query.ordering);
  Builder sql(dialect);
  sql.append("SELECT id, dni, name FROM api_user");
  sql.where(query.filter);
  if (window.after) sql.past(ordering, *window.after, window.backwards);
  sql.append(" ORDER BY ");
  for (std::size_t i = 0; i < ordering.size(); ++i) {
    if (i != 0) sql.append(", ");
    sql.append(column(ordering[i].field));
    if (ordering[i].descending != window.backwards) sql.append(" DESC");
  }
  sql.append(" LIMIT ");
  sql.append(sql.bind(static_cast<std::int64_t>(window.limit)));
  if (window.offset != 0) {
    sql.append(" OFFSET ");
    sql.append(sql.bind(static_cast<std::int64_t>(window.offset)));
  }
  return sql.take();
}

Sql count_sql(const UserFilter& filter, Dialect dialect) {
  Builder sql(dialect);
  sql.append("SELECT count(*) FROM api_user");
  sql.where(filter);
  return sql.take();
}

}  // namespace users::storage
