// The request's query string as Django reads it (a QueryDict: '+' is a
// space, %XX decoded, ill-formed UTF-8 replaced as errors="replace" does),
// and the links DRF's pagination writes from it (replace_query_param and
// remove_query_param: the other parameters kept, sorted by name, encoded as
// urllib's urlencode encodes them).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace users::api {

struct QueryParam {
  std::string key;
  std::string value;
};

// urllib.parse.quote_plus: everything but letters, digits and "_.-~" as %XX
// (upper case), a space as '+'.
std::string quote_plus(std::string_view text);

class QueryParams {
 public:
  // `target` is the request target (origin or absolute form).
  static QueryParams of_target(std::string_view target);

  // QueryDict.get(key): the last value given, nullopt when none was.
  [[nodiscard]] std::optional<std::string_view> last(std::string_view key) const;

  [[nodiscard]] bool empty() const { return params_.empty(); }

  // A parameter set to a value, or removed (nullopt).
  struct Change {
    std::string_view key;
    std::optional<std::string> value;
  };

  // origin + path + the query with each change applied, in order, as DRF's
  // replace_query_param and remove_query_param build a page's links.
  [[nodiscard]] std::string link(std::string_view origin, std::initializer_list<Change> changes) const;

 private:
  std::string path_;  // as the request sent it (percent-encoded)
  std::vector<QueryParam> params_;
};

}  // namespace users::api
