// What a GET of the user list asks for, read as the reference's filter
// backends would read it: django-filter's ?dni= (exact), DRF's SearchFilter
// (?search=) and OrderingFilter (?ordering=, over id, dni and name). The
// pagination's own parameters stay in `params` for api/pagination.hpp.
#pragma once

#include <boost/system/result.hpp>
#include <string_view>

#include "api/outcome.hpp"
#include "api/query_params.hpp"
#include "storage/list_query.hpp"

namespace users::api {

// LIST_FILTERS: which of the three read the query; none by default (the
// reference ignores every query parameter).
struct ListFilters {
  bool dni = false;
  bool search = false;
  bool ordering = false;
};

struct ListRequest {
  storage::ListQuery query;
  QueryParams params;
};

// A ?dni= holding a NUL is refused as django-filter's form refuses it: 400
// {"dni": ["Null characters are not allowed."]}. `params` are read only when
// `read_params` (pagination needs them) or a filter is on.
boost::system::result<ListRequest, FieldErrorsBody> read_list_request(std::string_view target,
                                                                      const ListFilters& filters, bool read_params);

}  // namespace users::api
