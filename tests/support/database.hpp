// What a test server's database holds, whichever backend it runs on: for
// tests that check the stored rows themselves (after a crash, a shutdown).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/test_server.hpp"

namespace users::testing {

struct StoredUser {
  std::int64_t id = 0;
  std::string dni;
  std::string name;
};

// Every row of api_user, ascending by id, read straight from the database
// (the SQLite file, or the PostgreSQL database the harness made).
std::vector<StoredUser> stored_users(const TestServer& server);

// Adds `count` users straight to a running server's SQLite file, in one
// transaction (ids after the last, dni "%09dX", names "User number N"): a
// large table in a moment, for the tests of long lists.
void insert_sqlite_users(const TestServer& server, int count);

// The same on either backend (the SQLite file, or the server's PostgreSQL
// database): ids after the last, dni "%09dX", names "User number N".
void insert_users(const TestServer& server, int count);

}  // namespace users::testing
