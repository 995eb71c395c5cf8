// The data-moving commands, over any backend's UserTable: dumpdata and
// loaddata in Django's fixture format, and copy from one database to
// another. Each streams: keyset pages out, batches in, never a whole table
// or file in memory.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

#include "storage/user_table.hpp"
#include "transfer/checksum.hpp"

namespace users::transfer {

// Users read, and written, per statement or transaction.
inline constexpr std::size_t kBatchSize = 1000;

struct TransferError {
  enum class Kind {
    kBadInput,  // the file, the records or the destination: the user can fix it (exit 2)
    kFailed,    // the database failed, or the result did not verify (exit 1)
  };
  Kind kind = Kind::kFailed;
  std::string message;
};

template <typename T>
using TransferResult = boost::system::result<T, TransferError>;

// Where a command tells how it goes: `live` rewrites one progress line (for
// a terminal); the closing report is written either way.
struct Status {
  std::FILE* stream = stderr;
  bool live = false;
};

// Every user, ascending by id, from one consistent snapshot. `indent` as
// Django's --indent (0: one line). The number of users written.
TransferResult<std::int64_t> dumpdata(storage::UserTable& table, std::ostream& out, int indent);

struct LoadReport {
  std::int64_t records = 0;
  std::int64_t users_before = 0;
  std::int64_t users_after = 0;
};

// Checks every record of `path` first (nothing is written if one fails),
// then writes them with their ids, one transaction per batch: a record whose
// id is stored replaces that user, as Django's loaddata does; a dni held by
// another id stops the load there, that batch unwritten. Then moves the id
// sequence past the largest id. `dry_run`: the same, undone at the end.
TransferResult<LoadReport> loaddata(storage::UserTable& table, const std::string& path, bool dry_run);

struct CopyReport {
  TableChecksum copied;       // what was read from the source
  TableChecksum destination;  // the destination after the copy
  double seconds = 0;
};

// Copies every user, ids kept, from one snapshot of `from`; refuses a
// destination that holds users unless `append` (then an id present on both
// sides stops it). Verifies that the destination now holds exactly what it
// held plus what was read, and that the source still holds what was read
// (no write reached it meanwhile).
TransferResult<CopyReport> copy(storage::UserTable& from, storage::UserTable& to, bool append, const Status& status);

}  // namespace users::transfer
