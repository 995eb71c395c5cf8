#include "api/list_request.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "domain/messages.hpp"
#include "domain/text.hpp"

namespace users::api {
namespace {

using storage::SortField;
using storage::SortKey;

constexpr std::array<std::pair<std::string_view, SortField>, 3> kOrderingFields{
    {{"id", SortField::kId}, {"dni", SortField::kDni}, {"name", SortField::kName}}};

// OrderingFilter.get_ordering: the comma-separated terms, each stripped; a
// term is "field" or "-field", and one naming no field is dropped. None left:
// the view's default (by id).
std::vector<SortKey> ordering_of(std::string_view text) {
  std::vector<SortKey> ordering;
  while (true) {
    const auto comma = text.find(',');
    std::string_view term = domain::text::python_strip(text.substr(0, comma));
    const bool descending = term.starts_with('-');
    if (descending) term.remove_prefix(1);
    const auto* field = std::find_if(kOrderingFields.begin(), kOrderingFields.end(),
                                     [&](const auto& entry) { return entry.first == term; });
    if (field != kOrderingFields.end()) ordering.push_back(SortKey{field->second, descending});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return ordering;
}

// SearchFilter.get_search_terms: NULs dropped, commas as white space, then
// str.split().
std::vector<std::string> search_terms_of(std::string_view text) {
  std::string cleaned;
  cleaned.reserve(text.size());
  for (const char c : text) {
    if (c == '\0') continue;
    cleaned += c == ',' ? ' ' : c;
  }
  std::vector<std::string> terms;
  for (const auto word : domain::text::python_split(cleaned)) terms.emplace_back(word);
  return terms;
}

}  // namespace

boost::system::result<ListRequest, FieldErrorsBody> read_list_request(std::string_view target,
                                                                      const ListFilters& filters, bool read_params) {
  ListRequest request;
  const bool any_filter = filters.dni || filters.search || filters.ordering;
  if (!any_filter && !read_params) return request;  // the reference's plain list
  request.params = QueryParams::of_target(target);
  const auto& params = request.params;
  // django-filter's CharFilter: a forms.CharField, which strips, and skips
  // the filter when nothing is left.
  if (const auto dni = filters.dni ? params.last("dni") : std::nullopt) {
    const auto stripped = domain::text::python_strip(*dni);
    if (stripped.find('\0') != std::string_view::npos) {
      FieldErrorsBody refused;
      refused.errors.dni.push_back(domain::messages::kNullCharacters);
      return refused;
    }
    if (!stripped.empty()) request.query.filter.dni = std::string(stripped);
  }
  if (const auto search = filters.search ? params.last("search") : std::nullopt) {
    request.query.filter.search_terms = search_terms_of(*search);
  }
  if (const auto ordering = filters.ordering ? params.last("ordering") : std::nullopt; ordering && !ordering->empty()) {
    request.query.ordering = ordering_of(*ordering);
  }
  return request;
}

}  // namespace users::api
