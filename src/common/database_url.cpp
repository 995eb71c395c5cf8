#include "common/database_url.hpp"

#include <libpq-fe.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace users::common {
namespace {

// The user part of the authority, split at the password, as written.
struct UserinfoPassword {
  std::string_view before;    // scheme, "//" and user name, up to and including ':'
  std::string_view password;  // percent-encoded, as written
  std::string_view after;     // "@host..." onwards
};

std::optional<UserinfoPassword> split_userinfo_password(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto authority_start = scheme_end + 3;
  const auto authority_end = std::min(url.find_first_of("/?", authority_start), url.size());
  const auto authority = url.substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return UserinfoPassword{url.substr(0, authority_start + colon + 1), authority.substr(colon + 1, at - colon - 1),
                          url.substr(authority_start + at)};
}

// Where each password=... query parameter's value lies: offset and length.
std::vector<std::pair<std::size_t, std::size_t>> query_passwords(std::string_view url) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  auto at = url.find('?');
  if (at == std::string_view::npos) return spans;
  ++at;
  while (at < url.size()) {
    const auto end = std::min(url.find('&', at), url.size());
    const auto pair = url.substr(at, end - at);
    constexpr std::string_view kKey = "password=";
    if (pair.starts_with(kKey)) spans.emplace_back(at + kKey.size(), pair.size() - kKey.size());
    at = end + 1;
  }
  return spans;
}

struct ConninfoFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// What libpq makes of the URL: the password it would send (decoded, empty
// when none), or its error message unscrubbed.
struct LibpqView {
  std::optional<std::string> error;
  std::string password;
};

LibpqView libpq_view(std::string_view url) {
  char* error = nullptr;
  const std::string text(url);
  std::unique_ptr<PQconninfoOption, ConninfoFree> options(PQconninfoParse(text.c_str(), &error));
  LibpqView view;
  if (!options) {
    view.error = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return view;
  }
  for (const auto* option = options.get(); option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr) view.password = option->val;
  }
  return view;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

std::string redact_url(std::string_view url) {
  if (!is_postgres_url(url)) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return "<unparseable URL>";
    boost::urls::url copy(*parsed);
    if (copy.has_password()) copy.set_password("***");
    return std::string(copy.buffer());
  }
  std::string out(url);
  if (const auto parts = split_userinfo_password(url)) {
    out = std::string(parts->before) + "***" + std::string(parts->after);
  }
  // Back to front, so that the offsets not yet used stay valid.
  const auto spans = query_passwords(out);
  for (std::size_t i = spans.size(); i-- > 0;) out.replace(spans[i].first, spans[i].second, "***");
  return out;
}

std::string scrub_secrets(std::string_view text, std::string_view url) {
  std::string out(text);
  if (url.empty()) return out;
  replace_all(out, url, redact_url(url));
  if (const auto parts = split_userinfo_password(url)) replace_all(out, parts->password, "***");
  for (const auto& [offset, length] : query_passwords(url)) replace_all(out, url.substr(offset, length), "***");
  replace_all(out, libpq_view(url).password, "***");
  return out;
}

boost::system::result<void, std::string> check_url(std::string_view url) {
  const auto view = libpq_view(url);
  if (view.error) return one_line(scrub_secrets(*view.error, url));
  return {};
}

std::string one_line(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  bool space = false;
  for (const char c : message) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace users::common
