// The commands that move data in and out: dumpdata, loaddata, copy, backup.
// Each prints one closing line (or the error) on stderr and returns the
// exit status (kExitOk, kExitFailure, kExitBadConfig).
#pragma once

#include <string>

#include "config/config.hpp"

namespace users::app {

struct DumpOptions {
  std::string output;  // empty: stdout
  int indent = 0;
};
int dumpdata(const config::Config& config, const DumpOptions& options);

int loaddata(const config::Config& config, const std::string& path, bool dry_run);

struct CopyOptions {
  std::string from_url;
  std::string to_url;
  bool append = false;
};
int copy(const CopyOptions& options);

int backup(const config::Config& config, const std::string& path);

}  // namespace users::app
