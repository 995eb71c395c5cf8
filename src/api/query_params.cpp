#include "api/query_params.hpp"

#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "domain/text.hpp"

namespace users::api {
namespace urls = boost::urls;

std::string quote_plus(std::string_view text) {
  urls::encoding_opts opts;
  opts.space_as_plus = true;
  return urls::encode(text, urls::unreserved_chars, opts);
}

QueryParams QueryParams::of_target(std::string_view target) {
  QueryParams query;
  const auto url = target.starts_with('/') ? urls::parse_origin_form(target) : urls::parse_uri(target);
  if (!url) return query;
  query.path_ = std::string(url->encoded_path());
  if (!url->has_query()) return query;
  // parse_qs(keep_blank_values=True): "a" is a="", empty pieces are skipped.
  for (const auto& param : url->params()) {
    if (param.key.empty() && !param.has_value) continue;
    query.params_.push_back({domain::text::repair_utf8(param.key), domain::text::repair_utf8(param.value)});
  }
  return query;
}

std::optional<std::string_view> QueryParams::last(std::string_view key) const {
  const auto found =
      std::find_if(params_.rbegin(), params_.rend(), [&](const QueryParam& param) { return param.key == key; });
  if (found == params_.rend()) return std::nullopt;
  return found->value;
}

std::string QueryParams::link(std::string_view origin, std::initializer_list<Change> changes) const {
  // parse_qs gathers each key's values; a change replaces or removes a key;
  // sorted(dict.items()) orders by key, and a key's values keep their order.
  std::vector<QueryParam> kept;
  kept.reserve(params_.size() + changes.size());
  for (const auto& param : params_) {
    const bool changed =
        std::any_of(changes.begin(), changes.end(), [&](const Change& change) { return change.key == param.key; });
    if (!changed) kept.push_back(param);
  }
  for (const auto& change : changes) {
    if (change.value) kept.push_back({std::string(change.key), *change.value});
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const QueryParam& left, const QueryParam& right) { return left.key < right.key; });
  std::string out(origin);
  out += path_;
  char separator = '?';
  for (const auto& param : kept) {
    out += separator;
    separator = '&';
    out += quote_plus(param.key);
    out += '=';
    out += quote_plus(param.value);
  }
  return out;
}

}  // namespace users::api
