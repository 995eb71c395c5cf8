// The SQLite backend: one file, zero set-up, for a single replica.
//
// Reads run on the calling IO thread, each thread with its own read-only
// connection (WAL lets them proceed while a write commits); a single user is
// served from a cache the writer keeps coherent (user_cache.hpp) when it is
// there. Changes that another process commits to the file are seen by the
// cache within `external_change_check`; lists and the dni check always read
// the database. Writes go to one
// writer thread that commits them in batches (group commit), so an fsync is
// shared by every write that arrived meanwhile and IO threads never wait on
// the write lock.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "storage/migrations.hpp"
#include "storage/user_store.hpp"

namespace users::storage::sqlite {

struct SqliteOptions {
  std::string path;
  // FULL fsyncs every commit; NORMAL (the WAL default) survives a crash of the
  // process but may lose the last commits on power loss.
  bool synchronous_full = false;
  // Writes waiting for the writer thread beyond this are refused (kBusy).
  std::size_t max_pending_writes = 4096;
  // Writes committed together in one transaction, at most.
  std::size_t max_batch = 512;
  // How long a connection waits for a lock held by another process.
  std::chrono::milliseconds busy_timeout{5000};
  // Users kept in memory for GET of one user (256 bytes each); 0: none.
  std::size_t cache_users = 16384;
  // How often the writer asks SQLite whether another connection (another
  // process) changed the file, and if so empties the cache.
  std::chrono::milliseconds external_change_check{250};
};

// Creates the file if needed and applies pending migrations, under the write
// lock, so concurrent starts apply each migration once.
boost::system::result<MigrationReport, std::string> migrate(const SqliteOptions& options);

// Opens a migrated database. Fails if the schema is missing or newer than
// this binary knows.
boost::system::result<std::unique_ptr<UserStore>, std::string> open_store(const SqliteOptions& options);

}  // namespace users::storage::sqlite
