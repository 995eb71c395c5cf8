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

}  // namespace users::testing
