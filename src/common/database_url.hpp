// Database URLs as text: which backend a URL names, whether libpq accepts
// it, and keeping its password out of everything users-api prints (logs,
// error bodies, /readyz reasons, exit messages). Shared by config/, which
// reads the URL, and storage/postgres/, which hands it to libpq.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace users::common {

// postgres:// or postgresql://, the two prefixes libpq takes as a URI.
[[nodiscard]] bool is_postgres_url(std::string_view url);

// The URL with the password (in the user part, or a password= parameter)
// replaced by "***". PostgreSQL URLs are split by hand, because libpq accepts
// what a strict URL parser would not (several hosts:
// postgresql://h1:5432,h2:5432/db); others go through Boost.URL.
[[nodiscard]] std::string redact_url(std::string_view url);

// `text` with every trace of the URL's password replaced by "***": the URL
// itself, and the password as written and as decoded. libpq's own messages
// never hold a password, except that some URI syntax errors quote the URL.
[[nodiscard]] std::string scrub_secrets(std::string_view text, std::string_view url);

// Whether libpq accepts the URL; its message (scrubbed, one line) if not.
boost::system::result<void, std::string> check_url(std::string_view url);

// libpq's messages end in a newline and may span several lines ("connection
// to server ... failed: ...\n\tIs the server running...?"): one line, for logs.
[[nodiscard]] std::string one_line(std::string_view message);

}  // namespace users::common
