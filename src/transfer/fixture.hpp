// Django's fixture format for the users table, as `manage.py dumpdata
// api.user` writes it and `loaddata` reads it:
//   [{"model": "api.user", "pk": 1, "fields": {"dni": "0987", "name": "Ana"}}, ...]
// Read a chunk at a time (a million users never sit in memory) with
// Boost.JSON's event parser, and written record by record. No I/O here:
// the caller moves the bytes.
#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/user.hpp"

namespace users::transfer {

inline constexpr std::string_view kUserModel = "api.user";

// A record that passed every rule the API applies to a create (lengths,
// trimming, no NUL), its values as the API would store them.
struct FixtureRecord {
  std::size_t position = 0;  // 1 for the first record of the file
  domain::User user;
};

struct FixtureError {
  std::size_t position = 0;  // the record at fault; 0 when the file's shape is
  std::string message;

  [[nodiscard]] std::string to_string() const;
};

class FixtureReader {
 public:
  FixtureReader();
  FixtureReader(const FixtureReader&) = delete;
  FixtureReader& operator=(const FixtureReader&) = delete;
  FixtureReader(FixtureReader&& other) noexcept;
  FixtureReader& operator=(FixtureReader&& other) noexcept;
  ~FixtureReader();

  // Parses the next bytes of the file; appends the records they complete.
  boost::system::result<void, FixtureError> feed(std::string_view bytes, std::vector<FixtureRecord>& records);
  // After the last bytes: fails unless the file was one complete list.
  boost::system::result<void, FixtureError> finish(std::vector<FixtureRecord>& records);

 private:
  class Parser;
  std::unique_ptr<Parser> parser_;
};

// Writes byte for byte what Django's dumpdata writes (Python's json with
// ensure_ascii=False): indent 0 is the one-line form, N > 0 is --indent N.
class FixtureWriter {
 public:
  explicit FixtureWriter(int indent = 0) : indent_(indent) {}

  void begin(std::string& out) const;
  void add(const domain::User& user, std::string& out);
  void end(std::string& out) const;

 private:
  int indent_;
  bool first_ = true;
};

}  // namespace users::transfer
